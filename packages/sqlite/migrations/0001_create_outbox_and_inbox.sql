-- messagebox migration 0001_create_outbox_and_inbox for SQLite (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" TEXT PRIMARY KEY NOT NULL, "applied_at" INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS "messagebox_outbox" (
  "id" TEXT PRIMARY KEY NOT NULL,
  "source" TEXT NOT NULL,
  "type" TEXT NOT NULL,
  "payload" TEXT NOT NULL,
  "headers" TEXT NOT NULL,
  "created_at" INTEGER NOT NULL,
  "status" TEXT NOT NULL,
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "available_at" INTEGER NOT NULL,
  "last_error" TEXT,
  "sent_at" INTEGER,
  "lease_until" INTEGER,
  "claim_token" TEXT
);

CREATE INDEX IF NOT EXISTS "messagebox_outbox_due" ON "messagebox_outbox" ("available_at", "id") WHERE "status" = 'pending';

CREATE INDEX IF NOT EXISTS "messagebox_outbox_sent" ON "messagebox_outbox" ("sent_at") WHERE "status" = 'sent';

CREATE TABLE IF NOT EXISTS "messagebox_inbox" (
  "id" TEXT NOT NULL,
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
  "claim_token" TEXT,
  PRIMARY KEY ("source", "id")
);

CREATE INDEX IF NOT EXISTS "messagebox_inbox_due" ON "messagebox_inbox" ("available_at", "id") WHERE "status" = 'received';

CREATE INDEX IF NOT EXISTS "messagebox_inbox_processed" ON "messagebox_inbox" ("processed_at") WHERE "status" = 'processed';

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0001_create_outbox_and_inbox', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0001_create_outbox_and_inbox');
