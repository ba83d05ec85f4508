import type pg from 'pg';

/** Most statement texts one pool runs as named statements (each connection keeps at most this many prepared). */
const MAX_NAMED = 128;
/** Statements with more values than this (multi-row batches, of many sizes) stay unnamed: each size would be a statement of its own. */
const MAX_PARAMETERS = 64;

const registries = new WeakMap<pg.Pool, NamedStatements>();

/**
 * The store's hot statements as named prepared statements on one `pg.Pool`:
 * Postgres parses and plans each once per connection instead of at every
 * call. The store tells it (through the dialect's `reusedStatement`) which
 * texts it runs many times; every client the pool hands out then sends those
 * texts as `{ name, text, values }`, and anything else as before.
 *
 * Left unnamed: the claims (their best plan depends on the values: due
 * times, the partial index of waiting rows; a generic plan chosen while a
 * table is small could scan it later), statements with more than 64 values,
 * and any text past the first 128. Names are unique per process and pool
 * (`messagebox_<random>_<n>`), so they never meet another library's.
 *
 * @example
 * const named = namedStatementsOf(pool); // once per pool; createPostgresStorage does it
 * const dialect = createPostgresDialect({ namedStatements: named });
 */
export class NamedStatements {
  readonly #names = new Map<string, string>();
  readonly #prefix = `messagebox_${Math.random().toString(36).slice(2, 8)}_`;
  readonly #wrapped = new WeakSet<object>();

  /** @internal Use {@link namedStatementsOf}: one registry per pool. */
  constructor(pool: pg.Pool) {
    pool.on('acquire', (client) => this.#wrap(client));
  }

  /** How many texts run named (tests and diagnostics). */
  get size(): number {
    return this.#names.size;
  }

  /** The name `sql` runs under, if any. */
  nameOf(sql: string): string | undefined {
    return this.#names.get(sql);
  }

  /** Runs `sql` named from now on, unless it is a claim, carries more than 64 values, or 128 texts are named already. */
  add(statement: { sql: string; key: string; parameters: number }): void {
    if (statement.key.startsWith('postgres.claim') || statement.parameters > MAX_PARAMETERS) return;
    if (this.#names.has(statement.sql) || this.#names.size >= MAX_NAMED) return;
    this.#names.set(statement.sql, `${this.#prefix}${this.#names.size + 1}`);
  }

  #wrap(client: pg.PoolClient): void {
    if (this.#wrapped.has(client)) return;
    this.#wrapped.add(client);
    const names = this.#names;
    const query = client.query as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = function namedQuery(this: unknown, config: unknown, values?: unknown, callback?: unknown) {
      if (typeof config === 'string' && Array.isArray(values)) {
        const name = names.get(config);
        if (name !== undefined) return query.call(this, { name, text: config, values }, callback);
      }
      // eslint-disable-next-line prefer-rest-params
      return query.apply(this, arguments as unknown as unknown[]);
    };
  }
}

/** The {@link NamedStatements} of `pool` (made on first call: it watches the clients the pool hands out from then on). */
export function namedStatementsOf(pool: pg.Pool): NamedStatements {
  let registry = registries.get(pool);
  if (!registry) registries.set(pool, (registry = new NamedStatements(pool)));
  return registry;
}
