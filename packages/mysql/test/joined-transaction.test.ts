import { MessageboxError } from '@messagebox/core';
import { requireDatabase, runJoinedTransactionCases } from '@messagebox/testkit';
import { sql, type Kysely, type Transaction } from 'kysely';
import { createPool as createCallbackPool, type Pool as CallbackPool, type PoolConnection as CallbackConnection } from 'mysql2';
import { createPool, type Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlStorage, mysqlTransaction } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);

describe.runIf(reachable)('mysql: the outbox joins a transaction the application opened', () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;
  let pool: Pool;
  let callbackPool: CallbackPool;
  let storage: ReturnType<typeof createMysqlStorage<unknown>>;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.connect(4);
    pool = createPool({ uri: database.url, connectionLimit: 2 });
    callbackPool = createCallbackPool({ uri: database.url, connectionLimit: 2 });
    storage = createMysqlStorage({ db, tablePrefix: 'jt_' });
    await storage.migrate();
    await sql`create table jt_payment (id varchar(255) primary key, amount int not null)`.execute(db);
  });
  afterAll(async () => {
    await pool?.end();
    await new Promise((resolve) => (callbackPool ? callbackPool.end(resolve) : resolve(undefined)));
    await db?.destroy();
    await database?.drop();
  });

  runJoinedTransactionCases<Transaction<unknown>>({
    store: () => storage.outbox,
    businessRows: async (id) => (await pool.query('select id from jt_payment where id = ?', [id]))[0] as unknown[],
    ways: [
      {
        name: 'mysql2/promise (beginTransaction … commit/rollback)',
        async run(id, add, end) {
          const connection = await pool.getConnection();
          try {
            await connection.beginTransaction();
            await connection.query('insert into jt_payment (id, amount) values (?, ?)', [id, 1]);
            const message = await add(mysqlTransaction(connection));
            await (end === 'commit' ? connection.commit() : connection.rollback());
            return message;
          } finally {
            connection.release();
          }
        },
      },
      {
        name: 'mysql2 callback connection (START TRANSACTION … COMMIT/ROLLBACK)',
        async run(id, add, end) {
          const connection = await new Promise<CallbackConnection>((resolve, reject) => callbackPool.getConnection((error, c) => (error ? reject(error) : resolve(c))));
          const run = (statement: string, values: unknown[] = []) =>
            new Promise<void>((resolve, reject) => connection.query(statement, values, (error) => (error ? reject(error) : resolve())));
          try {
            await run('start transaction');
            await run('insert into jt_payment (id, amount) values (?, ?)', [id, 1]);
            const message = await add(mysqlTransaction(connection));
            await run(end);
            return message;
          } finally {
            connection.release();
          }
        },
      },
    ],
  });

  it('refuses something that is not a mysql2 connection, with a clear error', () => {
    for (const bad of [42, null, {}, { connection: {} }]) {
      expect(() => mysqlTransaction(bad as never)).toThrow(MessageboxError);
      expect(() => mysqlTransaction(bad as never)).toThrow(/mysqlTransaction needs the mysql2 connection/);
    }
  });
});
