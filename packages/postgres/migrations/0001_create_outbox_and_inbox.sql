-- messagebox migration 0001_create_outbox_and_inbox for PostgreSQL (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" varchar(255) PRIMARY KEY, "applied_at" bigint NOT NULL);

CREATE TABLE IF NOT EXISTS "messagebox_outbox" (
  "id" varchar(255) PRIMARY KEY,
  "source" varchar(255) NOT NULL,
  "type" varchar(255) NOT NULL,
  "payload" text NOT NULL,
  "headers" text NOT NULL,
  "created_at" bigint NOT NULL,
  "status" varchar(16) NOT NULL,
  "attempts" integer NOT NULL DEFAULT 0,
  "available_at" bigint NOT NULL,
  "last_error" text,
  "sent_at" bigint,
  "lease_until" bigint,
  "claim_token" varchar(255)
);

CREATE INDEX IF NOT EXISTS "messagebox_outbox_due" ON "messagebox_outbox" ("available_at", "id") WHERE "status" = 'pending';

CREATE INDEX IF NOT EXISTS "messagebox_outbox_sent" ON "messagebox_outbox" ("sent_at") WHERE "status" = 'sent';

CREATE TABLE IF NOT EXISTS "messagebox_inbox" (
  "id" varchar(255) NOT NULL,
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
  "claim_token" varchar(255),
  PRIMARY KEY ("source", "id")
);

CREATE INDEX IF NOT EXISTS "messagebox_inbox_due" ON "messagebox_inbox" ("available_at", "id") WHERE "status" = 'received';

CREATE INDEX IF NOT EXISTS "messagebox_inbox_processed" ON "messagebox_inbox" ("processed_at") WHERE "status" = 'processed';

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0001_create_outbox_and_inbox', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0001_create_outbox_and_inbox');
