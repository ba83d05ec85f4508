import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStorageConformance } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll } from 'vitest';
import { cacheStatements, createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-cached-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same suite on a Kysely whose database view hands back prepared statements (`cacheStatements`). */
runStorageConformance({
  name: 'sqlite (cached statements)',
  setup: async ({ id }) => {
    const database = new Database(join(dir, `${id}.db`));
    database.pragma('journal_mode = WAL');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: cacheStatements(database) }) });
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    return { outbox: storage.outbox, inbox: storage.inbox, teardown: () => db.destroy() };
  },
});
