import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStorageConformance } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStorageConformance({
  name: 'sqlite',
  setup: async ({ id }) => {
    const database = new Database(join(dir, `${id}.db`));
    database.pragma('journal_mode = WAL');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    return { outbox: storage.outbox, inbox: storage.inbox, teardown: () => db.destroy() };
  },
});
