import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutbox, MessageboxError, silentLogger } from '@messagebox/core';
import { runJoinedTransactionCases } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStorage, sqliteTransaction } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-joined-'));

describe('sqlite: the outbox joins a transaction the application opened on its better-sqlite3 Database', () => {
  const file = join(dir, 'app.db');
  let app: Database.Database;
  let db: Kysely<unknown>;
  let storage: ReturnType<typeof createSqliteStorage<unknown>>;
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

  runJoinedTransactionCases<Transaction<unknown>>({
    store: () => storage.outbox,
    businessRows: async (id) => app.prepare('select id from jt_payment where id = ?').all(id),
    ways: [
      {
        name: "better-sqlite3 (exec('BEGIN IMMEDIATE') … COMMIT/ROLLBACK)",
        async run(id, add, end) {
          app.exec('BEGIN IMMEDIATE');
          try {
            app.prepare('insert into jt_payment (id, amount) values (?, ?)').run(id, 1);
            const message = await add(sqliteTransaction(app));
            app.exec(end === 'commit' ? 'COMMIT' : 'ROLLBACK');
            return message;
          } finally {
            if (app.inTransaction) app.exec('ROLLBACK');
          }
        },
      },
    ],
  });

  it('with no transaction open it rejects and writes nothing (an autocommit add would escape your rollback)', async () => {
    const outbox = createOutbox({ store: storage.outbox, source: 'vault', logger: silentLogger }).configure('payment.created', { transport: { name: 'unused', send: async () => undefined } });
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
