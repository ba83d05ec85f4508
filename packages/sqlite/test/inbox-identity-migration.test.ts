import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectInboxIdentityMigration } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage, sqliteDialect } from '../src/index.js';
import { createKyselyStorage } from '@messagebox/kysely';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-migration-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The tables exactly as migration 0001 created them before 0002 (inbox keyed by id). */
const legacy = (p: string) => [
  `CREATE TABLE IF NOT EXISTS "${p}outbox" ("id" TEXT PRIMARY KEY NOT NULL, "source" TEXT NOT NULL, "type" TEXT NOT NULL, "payload" TEXT NOT NULL, "headers" TEXT NOT NULL, "created_at" INTEGER NOT NULL, "status" TEXT NOT NULL, "attempts" INTEGER NOT NULL DEFAULT 0, "available_at" INTEGER NOT NULL, "last_error" TEXT, "sent_at" INTEGER, "lease_until" INTEGER, "claim_token" TEXT)`,
  `CREATE TABLE IF NOT EXISTS "${p}inbox" (
  "id" TEXT PRIMARY KEY NOT NULL,
  "source" TEXT NOT NULL,
  "type" TEXT NOT NULL,
  "payload" TEXT NOT NULL,
  "headers" TEXT NOT NULL,
  "created_at" INTEGER NOT NULL,
  "status" TEXT NOT NULL,
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "received_at" INTEGER NOT NULL,
  "available_at" INTEGER NOT NULL,
  "last_error" TEXT,
  "processed_at" INTEGER,
  "lease_until" INTEGER,
  "claim_token" TEXT
)`,
  `CREATE INDEX IF NOT EXISTS "${p}inbox_due" ON "${p}inbox" ("available_at", "id") WHERE "status" = 'received'`,
  `CREATE INDEX IF NOT EXISTS "${p}inbox_processed" ON "${p}inbox" ("processed_at") WHERE "status" = 'processed'`,
  `CREATE TABLE IF NOT EXISTS "${p}migrations" ("name" TEXT PRIMARY KEY NOT NULL, "applied_at" INTEGER NOT NULL)`,
  `INSERT INTO "${p}migrations" ("name", "applied_at") VALUES ('0001_create_outbox_and_inbox', 0)`,
];

describe('sqlite: migration 0002_inbox_identity_source_id', () => {
  it('rebuilds an inbox keyed by id into one keyed by (source, id), keeping rows and indexes', async () => {
    const database = new Database(join(dir, 'legacy.db'));
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    const storage = createSqliteStorage({ db, tablePrefix: 'app_' });
    await expectInboxIdentityMigration({
      createLegacyTables: async () => void database.exec(legacy('app_').join(';\n')),
      // The tables have no ordering columns before 0005: the inbox is used through a dialect without them (as the code of that time).
      inbox: createKyselyStorage({ db, dialect: { ...sqliteDialect, keyOrderMigration: undefined }, tablePrefix: 'app_' }).inbox,
      migrate: () => storage.migrate(),
    });
    const objects = database.prepare(`select type, name from sqlite_master where tbl_name = 'app_inbox' order by name`).all();
    expect(objects).toEqual([
      { type: 'table', name: 'app_inbox' },
      { type: 'index', name: 'app_inbox_dead' },
      { type: 'index', name: 'app_inbox_dead_type' },
      { type: 'index', name: 'app_inbox_due' },
      { type: 'index', name: 'app_inbox_key_order' },
      { type: 'index', name: 'app_inbox_processed' },
      { type: 'index', name: 'app_inbox_processed_type' },
      { type: 'index', name: 'sqlite_autoindex_app_inbox_1' },
    ]);
    await db.destroy();
  });
});
