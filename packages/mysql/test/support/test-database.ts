import { createScratchDatabase, type ScratchDatabase } from '@messagebox/testkit';
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

/** A scratch database; `connect(poolSize = 10, log?)` gives a new Kysely instance on it. */
export type TestDatabase = ScratchDatabase<Kysely<unknown>, [poolSize?: number, log?: CompiledQuery[]]>;

/** Creates `mb_<random>` for this test run; `drop()` removes it. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase({
    adminUrl,
    create: (name) => admin(`CREATE DATABASE \`${name}\``),
    drop: (name) => admin(`DROP DATABASE IF EXISTS \`${name}\``),
    connect: (url, poolSize = 10, log?: CompiledQuery[]) =>
      new Kysely<unknown>({
        dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: poolSize }) }),
        log: log ? (event) => void log.push(event.query) : undefined,
      }),
  });
}
