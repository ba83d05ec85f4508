-- messagebox migration 0002_inbox_identity_source_id for SQLite (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" TEXT PRIMARY KEY NOT NULL, "applied_at" INTEGER NOT NULL);

DROP TABLE IF EXISTS "messagebox_inbox_rebuild";

CREATE TABLE IF NOT EXISTS "messagebox_inbox_rebuild" (
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

INSERT INTO "messagebox_inbox_rebuild" ("id", "source", "type", "payload", "headers", "created_at", "status", "attempts", "received_at", "available_at", "last_error", "processed_at", "lease_until", "claim_token") SELECT "id", "source", "type", "payload", "headers", "created_at", "status", "attempts", "received_at", "available_at", "last_error", "processed_at", "lease_until", "claim_token" FROM "messagebox_inbox";

DROP TABLE "messagebox_inbox";

ALTER TABLE "messagebox_inbox_rebuild" RENAME TO "messagebox_inbox";

CREATE INDEX IF NOT EXISTS "messagebox_inbox_due" ON "messagebox_inbox" ("available_at", "id") WHERE "status" = 'received';

CREATE INDEX IF NOT EXISTS "messagebox_inbox_processed" ON "messagebox_inbox" ("processed_at") WHERE "status" = 'processed';

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0002_inbox_identity_source_id', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0002_inbox_identity_source_id');
