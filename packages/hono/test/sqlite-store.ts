import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStorage } from '@messagebox/sqlite';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';

let n = 0;

/** A fresh inbox store in its own SQLite file, deleted by `close`. */
export async function createSqliteInboxStore() {
  const dir = mkdtempSync(join(tmpdir(), 'messagebox-inbox-'));
  const database = new Database(join(dir, `inbox-${n++}.db`));
  database.pragma('journal_mode = WAL');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  const storage = createSqliteStorage({ db });
  await storage.migrate();
  return {
    store: storage.inbox,
    close: async () => {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
