import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKyselyStorage, type MessageboxDialect } from '@messagebox/kysely';
import { runStorageConformance } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll } from 'vitest';
import { sqliteDialect } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-nobatch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A dialect of one's own without the optional `insertManyIfAbsent`: `receiveMany` falls back to `insertIfAbsent` per row and keeps every promise. */
const { insertManyIfAbsent: _none, ...withoutBatchInsert } = sqliteDialect;

runStorageConformance({
  name: 'sqlite, dialect without insertManyIfAbsent',
  setup: async ({ id }) => {
    const database = new Database(join(dir, `${id}.db`));
    database.pragma('journal_mode = WAL');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    const storage = createKyselyStorage({ db, dialect: withoutBatchInsert as MessageboxDialect });
    await storage.migrate();
    return { outbox: storage.outbox, inbox: storage.inbox, teardown: () => db.destroy() };
  },
});
