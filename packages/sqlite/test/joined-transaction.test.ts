import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutbox, MessageboxError, type Message, type Transport } from '@messagebox/core';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStorage, sqliteTransaction } from '../src/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-joined-'));

describe('sqlite: the outbox joins a transaction the application opened on its better-sqlite3 Database', () => {
  const file = join(dir, 'app.db');
  let app: Database.Database;
  let db: Kysely<unknown>;
  let storage: ReturnType<typeof createSqliteStorage<unknown>>;
  let sent: Message[];
  let outbox: ReturnType<typeof makeOutbox>;
  const makeOutbox = () => {
    const transport: Transport = { name: 'recording', send: async (message) => void sent.push(message) };
    return createOutbox({ store: storage.outbox, source: 'vault', logger: silent, sendAfterCommit: false }).configure('payment.created', { transport });
  };

  beforeAll(async () => {
    db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) }); // the storage's own connection
    storage = createSqliteStorage({ db, tablePrefix: 'jt_' });
    await storage.migrate();
    app = new Database(file, { timeout: 5_000 }); // the application's connection to the same file
    app.exec('create table jt_payment (id text primary key, amount integer not null)');
  });
  afterAll(async () => {
    app?.close();
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    sent = [];
    outbox = makeOutbox();
  });

  const paymentRows = (id: string) => app.prepare('select id, amount from jt_payment where id = ?').all(id);
  const outboxRows = async (id: string) => (await storage.outbox.list({})).filter((row) => row.id === id);

  it('BEGIN IMMEDIATE … COMMIT commits the business row and its message together', async () => {
    app.exec('BEGIN IMMEDIATE');
    app.prepare('insert into jt_payment (id, amount) values (?, ?)').run('sq-1', 100);
    const message = await outbox.add(sqliteTransaction(app), { type: 'payment.created', payload: { id: 'sq-1', amount: 100 } });
    expect(await outboxRows(message.id)).toEqual([]); // the storage's connection does not see it yet
    app.exec('COMMIT');
    expect(paymentRows('sq-1')).toEqual([{ id: 'sq-1', amount: 100 }]);
    expect(await outboxRows(message.id)).toMatchObject([{ id: message.id, payload: { id: 'sq-1', amount: 100 }, status: 'pending' }]);
    expect((await outbox.deliver([message])).sent).toBe(1);
    expect(sent.map((m) => m.id)).toEqual([message.id]);
  });

  it('ROLLBACK leaves neither', async () => {
    app.exec('BEGIN IMMEDIATE');
    app.prepare('insert into jt_payment (id, amount) values (?, ?)').run('sq-2', 200);
    const message = await outbox.add(sqliteTransaction(app), { type: 'payment.created', payload: { id: 'sq-2' } });
    app.exec('ROLLBACK');
    expect(paymentRows('sq-2')).toEqual([]);
    expect(await outboxRows(message.id)).toEqual([]);
    expect((await outbox.deliver([message])).sent).toBe(0);
  });

  it('with no transaction open it rejects and writes nothing (an autocommit add would escape your rollback)', async () => {
    const before = (await storage.outbox.list({})).length;
    await expect(outbox.add(sqliteTransaction(app), { type: 'payment.created', payload: { id: 'sq-3' } })).rejects.toThrow(/no transaction is open/);
    expect(await storage.outbox.list({})).toHaveLength(before);
  });

  it('refuses something that is not a better-sqlite3 Database, with a clear error', () => {
    for (const bad of [42, null, {}, { prepare() {} }]) {
      expect(() => sqliteTransaction(bad as never)).toThrow(MessageboxError);
      expect(() => sqliteTransaction(bad as never)).toThrow(/sqliteTransaction needs the better-sqlite3 Database/);
    }
  });
});
