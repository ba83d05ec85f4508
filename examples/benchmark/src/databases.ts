import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStorage } from '@messagebox/postgres';
import { cacheStatements, createSqliteStorage } from '@messagebox/sqlite';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { StatementCounter } from './statement-counter.js';

export type Dialect = 'postgres' | 'sqlite';

// The benchmark's tables are untyped; messagebox's own tables are reached through the storage.
export type AnyDb = Kysely<any>;

/** Where a process finds one database: a Postgres URL or a SQLite file path. */
export interface DatabaseRef {
  dialect: Dialect;
  url: string;
}

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The SQLite `synchronous` setting of this run (`BENCH_SQLITE_SYNCHRONOUS`,
 * set by the benchmark for its children from `--sqlite-synchronous`): FULL
 * unless told otherwise.
 */
export function sqliteSynchronous(): 'FULL' | 'NORMAL' {
  return process.env.BENCH_SQLITE_SYNCHRONOUS?.toLowerCase() === 'normal' ? 'NORMAL' : 'FULL';
}

/** The pg pool under each Postgres Kysely instance `connect` made, passed to the storage as the README advises (guarded, named statements). */
const pools = new WeakMap<AnyDb, pg.Pool>();

/** A Kysely instance on `ref`, every statement counted by `counter` when given. */
export function connect(ref: DatabaseRef, counter?: StatementCounter): AnyDb {
  if (ref.dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: ref.url, max: 10 });
    counter?.watchPool(pool);
    const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    pools.set(db, pool);
    return db;
  }
  const database = new Database(ref.url, { timeout: 10_000 });
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${sqliteSynchronous()}`);
  // As the @messagebox/sqlite README advises: SQLite parses each statement text once (Kysely's driver prepares every statement it runs).
  const cached = cacheStatements(database);
  counter?.watchSqlite(cached);
  return new Kysely({ dialect: new SqliteDialect({ database: cached }) });
}

/** messagebox storage on `db`, as the package READMEs set it up (Postgres wakes workers with LISTEN/NOTIFY). */
export function storageOn(ref: DatabaseRef, db: AnyDb, options: { listen?: boolean } = {}) {
  return ref.dialect === 'postgres' ? createPostgresStorage({ db, pool: pools.get(db), listen: options.listen ? ref.url : false }) : createSqliteStorage({ db });
}

/** Databases of one run: `create()` makes them, `drop()` removes whatever exists of them (also halfway through `create()`). */
export interface RunDatabases {
  refs: Record<string, DatabaseRef>;
  /** Postgres database names (for pg_stat_database), by role. */
  names: Record<string, string>;
  create(): Promise<void>;
  drop(): Promise<void>;
}

/** Tries the Postgres server once, with a short timeout; throws a clear error when it cannot be reached. */
export async function checkPostgres(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(
      `[benchmark] cannot reach PostgreSQL at ${redact(adminUrl)}: ${(error as Error).message}. ` +
        'Start it, point BENCH_DATABASE_URL at a server where this user may CREATE DATABASE, or run SQLite only with BENCH_DIALECTS=sqlite.',
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `sql` on the admin database. */
export async function admin<T extends pg.QueryResultRow = pg.QueryResultRow>(adminUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** One database (Postgres) or file (SQLite) per role, e.g. `['sender', 'receiver']`, with fresh names. */
export function runDatabases(dialect: Dialect, roles: readonly string[], adminUrl: string): RunDatabases {
  const refs: Record<string, DatabaseRef> = {};
  const names: Record<string, string> = {};
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'messagebox-bench-'));
    for (const role of roles) refs[role] = { dialect, url: join(dir, `${role}.sqlite`) };
    return { refs, names, create: async () => {}, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const stem = `mb_bench_${randomBytes(4).toString('hex')}`;
  for (const role of roles) {
    const url = new URL(adminUrl);
    url.pathname = `/${stem}_${role}`;
    refs[role] = { dialect, url: url.toString() };
    names[role] = `${stem}_${role}`;
  }
  let creating: Promise<void> | undefined;
  return {
    refs,
    names,
    create() {
      return (creating ??= (async () => {
        for (const name of Object.values(names)) await admin(adminUrl, `CREATE DATABASE "${name}"`);
      })());
    },
    async drop() {
      await creating?.catch(() => {});
      for (const name of Object.values(names)) await admin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** Transactions committed and rolled back so far in each database, from `pg_stat_database`. */
export async function transactionStats(adminUrl: string, names: readonly string[]): Promise<Map<string, number>> {
  const rows = await admin<{ datname: string; xacts: string }>(
    adminUrl,
    'select pg_stat_clear_snapshot(), datname, (xact_commit + xact_rollback)::text as xacts from pg_stat_database where datname = any($1)',
    [names],
  );
  return new Map(rows.map((r) => [r.datname, Number(r.xacts)]));
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * CPU time (ms) used so far by the Postgres backends connected to each
 * database, by pid, read from `/proc/<pid>/stat` (user + system, 100 ticks/s).
 * Undefined when the server is not on this machine or /proc cannot be read.
 */
export async function backendCpu(adminUrl: string, names: readonly string[]): Promise<Map<string, Map<number, number>> | undefined> {
  const host = new URL(adminUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host) || process.platform !== 'linux') return undefined;
  const rows = await admin<{ pid: number; datname: string }>(adminUrl, 'select pid, datname from pg_stat_activity where datname = any($1)', [names]);
  const out = new Map<string, Map<number, number>>(names.map((n) => [n, new Map()]));
  try {
    for (const { pid, datname } of rows) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.get(datname)?.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    }
  } catch {
    return undefined;
  }
  return out;
}

/** CPU ms the backends of `name` used between two {@link backendCpu} readings (backends that ended in between are missed). */
export function backendCpuDelta(before: Map<string, Map<number, number>>, after: Map<string, Map<number, number>>, name: string): number {
  let total = 0;
  for (const [pid, ms] of after.get(name) ?? []) total += ms - (before.get(name)?.get(pid) ?? 0);
  return total;
}
