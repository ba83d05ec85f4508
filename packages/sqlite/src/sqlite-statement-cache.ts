import { MessageboxError } from '@messagebox/core';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Options of {@link cacheStatements}. */
export interface CacheStatementsOptions {
  /** Most statement texts kept prepared; the least recently used goes first. Default 256. */
  maxStatements?: number;
}

/**
 * A view of a better-sqlite3 `Database` whose `prepare(sql)` hands back the
 * statement it prepared for the same text before, instead of preparing it
 * again. Kysely's SQLite driver prepares every statement it runs (BEGIN and
 * COMMIT included); give it this view, and SQLite parses each text once (in
 * the benchmark's receiver that was about a tenth of its CPU). A statement
 * still iterating (a Kysely `stream()`) is never handed out twice: a second
 * caller gets a freshly prepared one.
 *
 * Only what goes through the view is cached: your own code on the original
 * `Database` is untouched. Through the view, do not switch a statement's
 * modes (`raw()`, `pluck()`, `expand()`, `safeIntegers()`): the next caller
 * of the same text would get it switched. Kysely never does.
 *
 * @example
 * const database = new Database('app.db');
 * const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cacheStatements(database) }) });
 * const storage = createSqliteStorage({ db });
 */
export function cacheStatements<D extends SqliteDatabase>(database: D, options: CacheStatementsOptions = {}): D {
  const max = options.maxStatements ?? 256;
  if (!Number.isInteger(max) || max < 1) throw new MessageboxError('invalid_options', `[messagebox] cacheStatements: maxStatements must be an integer >= 1, got ${String(max)}`);
  const cache = new Map<string, SqliteStatement>();
  const prepare = (source: string): SqliteStatement => {
    const cached = cache.get(source);
    if (cached !== undefined) {
      if ((cached as { busy?: boolean }).busy) return database.prepare(source);
      cache.delete(source);
      cache.set(source, cached);
      return cached;
    }
    const statement = database.prepare(source);
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(source, statement);
    return statement;
  };
  /** Properties set on the view (a wrapper of `prepare`, say) stay on the view. */
  const own = new Map<PropertyKey, unknown>([['prepare', prepare]]);
  return new Proxy(database, {
    get(target, property) {
      if (own.has(property)) return own.get(property);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set(target, property, value) {
      if (property !== 'prepare') return Reflect.set(target, property, value, target);
      own.set(property, value);
      return true;
    },
  });
}
