import { randomBytes } from 'node:crypto';
import { Kysely, MysqlDialect, type CompiledQuery } from 'kysely';
import { createConnection, createPool } from 'mysql2';

/** The server tests use; override with MESSAGEBOX_TEST_MYSQL_URL. */
export const adminUrl = process.env.MESSAGEBOX_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

async function admin(statement: string): Promise<void> {
  const connection = createConnection({ uri: adminUrl, connectTimeout: 3_000 }).promise();
  try {
    await connection.query(statement);
  } finally {
    await connection.end();
  }
}

export const probeMysql = () => admin('select 1');

export interface TestDatabase {
  name: string;
  url: string;
  /** A new Kysely instance on the test database; destroyed by `drop()`. */
  kysely(poolSize?: number, log?: CompiledQuery[]): Kysely<unknown>;
  drop(): Promise<void>;
}

/** Creates `mb_<random>` for this test run; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `mb_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE \`${name}\``);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const instances: Kysely<unknown>[] = [];
  return {
    name,
    url: url.toString(),
    kysely(poolSize = 10, log) {
      const dialect = new MysqlDialect({ pool: createPool({ uri: url.toString(), connectionLimit: poolSize }) });
      const db = new Kysely<unknown>({ dialect, log: log ? (event) => void log.push(event.query) : undefined });
      instances.push(db);
      return db;
    },
    async drop() {
      for (const db of instances.splice(0)) await db.destroy();
      await admin(`DROP DATABASE IF EXISTS \`${name}\``);
    },
  };
}
