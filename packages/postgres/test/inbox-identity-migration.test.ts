import { expectInboxIdentityMigration, requireDatabase } from '@messagebox/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDialect, createPostgresStorage } from '../src/index.js';
import { createKyselyStorage } from '@messagebox/kysely';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

/** The tables exactly as migration 0001 created them before 0002 (inbox keyed by id). */
const legacy = (s: string, p: string) => [
  `CREATE SCHEMA IF NOT EXISTS "${s}"`,
  `CREATE TABLE IF NOT EXISTS "${s}"."${p}outbox" ("id" varchar(255) PRIMARY KEY, "source" varchar(255) NOT NULL, "type" varchar(255) NOT NULL, "payload" text NOT NULL, "headers" text NOT NULL, "created_at" bigint NOT NULL, "status" varchar(16) NOT NULL, "attempts" integer NOT NULL DEFAULT 0, "available_at" bigint NOT NULL, "last_error" text, "sent_at" bigint, "lease_until" bigint, "claim_token" varchar(255))`,
  `CREATE TABLE IF NOT EXISTS "${s}"."${p}inbox" (
  "id" varchar(255) PRIMARY KEY,
  "source" varchar(255) NOT NULL,
  "type" varchar(255) NOT NULL,
  "payload" text NOT NULL,
  "headers" text NOT NULL,
  "created_at" bigint NOT NULL,
  "status" varchar(16) NOT NULL,
  "attempts" integer NOT NULL DEFAULT 0,
  "received_at" bigint NOT NULL,
  "available_at" bigint NOT NULL,
  "last_error" text,
  "processed_at" bigint,
  "lease_until" bigint,
  "claim_token" varchar(255)
)`,
  `CREATE INDEX IF NOT EXISTS "${p}inbox_due" ON "${s}"."${p}inbox" ("available_at", "id") WHERE "status" = 'received'`,
  `CREATE INDEX IF NOT EXISTS "${p}inbox_processed" ON "${s}"."${p}inbox" ("processed_at") WHERE "status" = 'processed'`,
  `CREATE TABLE IF NOT EXISTS "${s}"."${p}migrations" ("name" varchar(255) PRIMARY KEY, "applied_at" bigint NOT NULL)`,
  `INSERT INTO "${s}"."${p}migrations" ("name", "applied_at") VALUES ('0001_create_outbox_and_inbox', 0)`,
];

describe.runIf(reachable)('postgres: migration 0002_inbox_identity_source_id', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('swaps the primary key of an inbox keyed by id for (source, id), keeping rows', async () => {
    const db = database.connect();
    const storage = createPostgresStorage({ db, pool: false, schema: 'legacy', tablePrefix: 'app_' });
    await expectInboxIdentityMigration({
      createLegacyTables: async () => {
        for (const statement of legacy('legacy', 'app_')) await sql.raw(statement).execute(db);
      },
      // The tables have no ordering columns before 0005: the inbox is used through a dialect without them (as the code of that time).
      inbox: createKyselyStorage({ db, dialect: { ...createPostgresDialect(), keyOrderMigration: undefined }, schema: 'legacy', tablePrefix: 'app_' }).inbox,
      migrate: () => storage.migrate(),
    });
    const key = await sql<{ column: string }>`
      select a.attname as column from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
      where c.conrelid = 'legacy.app_inbox'::regclass and c.contype = 'p' order by array_position(c.conkey, a.attnum)`.execute(db);
    expect(key.rows.map((r) => r.column)).toEqual(['source', 'id']);
    await db.destroy();
  });

  it('does nothing to an inbox created with (source, id) already', async () => {
    const db = database.connect();
    const storage = createPostgresStorage({ db, pool: false, tablePrefix: 'fresh_' });
    expect(await storage.migrate()).toContain('0002_inbox_identity_source_id');
    await storage.inbox.transaction(async (tx) => {
      expect(await storage.inbox.receive(tx, { id: 'x', source: 'a', type: 't', payload: 1, headers: {}, createdAt: new Date() })).toBe(true);
      expect(await storage.inbox.receive(tx, { id: 'x', source: 'b', type: 't', payload: 2, headers: {}, createdAt: new Date() })).toBe(true);
    });
    await db.destroy();
  });
});
