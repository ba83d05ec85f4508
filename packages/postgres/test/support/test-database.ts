import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';

/** The server tests use; override with MESSAGEBOX_TEST_POSTGRES_URL. */
export const adminUrl = process.env.MESSAGEBOX_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function probePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  await client.end();
}

export interface TestDatabase {
  name: string;
  url: string;
  /** A new Kysely instance on the test database; destroyed by `drop()`. */
  kysely(poolSize?: number, log?: CompiledQuery[]): Kysely<unknown>;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `mb_<random>` for this test run; `drop()` removes it with everything connected to it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `mb_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const instances: Kysely<unknown>[] = [];
  return {
    name,
    url: url.toString(),
    kysely(poolSize = 10, log) {
      const dialect = new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: poolSize }) });
      const db = new Kysely<unknown>({ dialect, log: log ? (event) => void log.push(event.query) : undefined });
      instances.push(db);
      return db;
    },
    async drop() {
      for (const db of instances.splice(0)) await db.destroy();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
