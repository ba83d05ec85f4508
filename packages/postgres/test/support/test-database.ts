import { createScratchDatabase, type ScratchDatabase } from '@messagebox/testkit';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';

/** The server tests use; override with MESSAGEBOX_TEST_POSTGRES_URL. */
export const adminUrl = process.env.MESSAGEBOX_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function probePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  await client.end();
}

async function admin(run: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

/**
 * pg-pool's `end()` resolves before its sockets are closed; dropping WITH
 * (FORCE) at once would kill connections still saying goodbye (57P01 errors
 * surfacing after the tests). Wait for them to leave, then drop.
 */
async function dropWhenIdle(client: pg.Client, name: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
    if (rows[0]?.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** A test pool: an idle connection the server ends during teardown is expected, not a failure. */
function testPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') throw error;
  });
  return pool;
}

/**
 * A scratch database; `connect(poolSize = 10, log?)` gives a new Kysely instance on it. Its pool listens for its
 * own errors and is not handed out: storages on it pass `pool: false` (no unguarded-pool warning, no named statements).
 */
export type TestDatabase = ScratchDatabase<Kysely<unknown>, [poolSize?: number, log?: CompiledQuery[]]>;

/** Creates `mb_<random>` for this test run; `drop()` removes it with everything connected to it. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase({
    adminUrl,
    create: (name) => admin((c) => c.query(`CREATE DATABASE "${name}"`)),
    drop: (name) => admin((c) => dropWhenIdle(c, name)),
    connect: (url, poolSize = 10, log?: CompiledQuery[]) =>
      new Kysely<unknown>({
        dialect: new PostgresDialect({ pool: testPool(url, poolSize) }),
        log: log ? (event) => void log.push(event.query) : undefined,
      }),
  });
}

/** A Kysely instance on a pool of one connection, so `pg_prepared_statements` (per session) shows what a store on it prepared. */
export function openOneConnection(url: string): { pool: pg.Pool; db: Kysely<unknown> } {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return { pool, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }) };
}

/** The statements prepared on `db`'s one connection (see {@link openOneConnection}), by name. */
export async function preparedStatements(db: Kysely<unknown>): Promise<{ name: string; statement: string }[]> {
  return (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements order by name`.execute(db)).rows;
}
