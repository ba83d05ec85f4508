import { createOutbox, MessageboxError, type Message, type Transport } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { sql, type Kysely } from 'kysely';
import { createPool as createCallbackPool, type Pool as CallbackPool, type PoolConnection as CallbackConnection } from 'mysql2';
import { createPool, type Pool } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMysqlStorage, mysqlTransaction } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe.runIf(reachable)('mysql: the outbox joins a transaction the application opened', () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;
  let pool: Pool;
  let callbackPool: CallbackPool;
  let storage: ReturnType<typeof createMysqlStorage<unknown>>;
  let sent: Message[];
  let outbox: ReturnType<typeof makeOutbox>;
  const makeOutbox = () => {
    const transport: Transport = { name: 'recording', send: async (message) => void sent.push(message) };
    return createOutbox({ store: storage.outbox, source: 'vault', logger: silent, sendAfterCommit: false }).configure('payment.created', { transport });
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.connect(4);
    pool = createPool({ uri: database.url, connectionLimit: 2 });
    callbackPool = createCallbackPool({ uri: database.url, connectionLimit: 2 });
    storage = createMysqlStorage({ db, tablePrefix: 'jt_' });
    await storage.migrate();
    await sql`create table jt_payment (id varchar(64) primary key, amount int not null)`.execute(db);
  });
  afterAll(async () => {
    await pool?.end();
    await new Promise((resolve) => (callbackPool ? callbackPool.end(resolve) : resolve(undefined)));
    await db?.destroy();
    await database?.drop();
  });
  beforeEach(() => {
    sent = [];
    outbox = makeOutbox();
  });

  const paymentRows = async (id: string) => (await pool.query('select id, amount from jt_payment where id = ?', [id]))[0];
  const outboxRows = async (id: string) => (await storage.outbox.list({})).filter((row) => row.id === id);

  it('mysql2/promise: beginTransaction … commit commits the business row and its message together', async () => {
    const connection = await pool.getConnection();
    let message: Message;
    try {
      await connection.beginTransaction();
      await connection.query('insert into jt_payment (id, amount) values (?, ?)', ['my-1', 100]);
      message = await outbox.add(mysqlTransaction(connection), { type: 'payment.created', payload: { id: 'my-1', amount: 100 } });
      expect(await outboxRows(message.id)).toEqual([]); // not visible before commit
      await connection.commit();
    } finally {
      connection.release();
    }
    expect(await paymentRows('my-1')).toEqual([{ id: 'my-1', amount: 100 }]);
    expect(await outboxRows(message.id)).toMatchObject([{ id: message.id, payload: { id: 'my-1', amount: 100 }, status: 'pending' }]);
    expect((await outbox.deliver([message])).sent).toBe(1);
    expect(sent.map((m) => m.id)).toEqual([message.id]);
  });

  it('mysql2/promise: rollback leaves neither the business row nor the message', async () => {
    const connection = await pool.getConnection();
    let message: Message;
    try {
      await connection.beginTransaction();
      await connection.query('insert into jt_payment (id, amount) values (?, ?)', ['my-2', 200]);
      message = await outbox.add(mysqlTransaction(connection), { type: 'payment.created', payload: { id: 'my-2' } });
      await connection.rollback();
    } finally {
      connection.release();
    }
    expect(await paymentRows('my-2')).toEqual([]);
    expect(await outboxRows(message.id)).toEqual([]);
    expect((await outbox.deliver([message])).sent).toBe(0);
  });

  it('a callback mysql2 connection in START TRANSACTION works the same (commit and rollback)', async () => {
    const connection = await new Promise<CallbackConnection>((resolve, reject) => callbackPool.getConnection((error, c) => (error ? reject(error) : resolve(c))));
    const run = (statement: string, values: unknown[] = []) =>
      new Promise<void>((resolve, reject) => connection.query(statement, values, (error) => (error ? reject(error) : resolve())));
    try {
      await run('start transaction');
      await run('insert into jt_payment (id, amount) values (?, ?)', ['my-3', 300]);
      const kept = await outbox.add(mysqlTransaction(connection), { type: 'payment.created', payload: { id: 'my-3' } });
      await run('commit');
      await run('start transaction');
      await run('insert into jt_payment (id, amount) values (?, ?)', ['my-4', 400]);
      const dropped = await outbox.add(mysqlTransaction(connection), { type: 'payment.created', payload: { id: 'my-4' } });
      await run('rollback');
      expect(await outboxRows(kept.id)).toHaveLength(1);
      expect(await outboxRows(dropped.id)).toEqual([]);
      expect(await paymentRows('my-3')).toHaveLength(1);
      expect(await paymentRows('my-4')).toEqual([]);
    } finally {
      connection.release();
    }
  });

  it('refuses something that is not a mysql2 connection, with a clear error', () => {
    for (const bad of [42, null, {}, { connection: {} }]) {
      expect(() => mysqlTransaction(bad as never)).toThrow(MessageboxError);
      expect(() => mysqlTransaction(bad as never)).toThrow(/mysqlTransaction needs the mysql2 connection/);
    }
  });
});
