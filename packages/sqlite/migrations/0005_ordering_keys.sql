-- messagebox migration 0005_ordering_keys for SQLite (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" TEXT PRIMARY KEY NOT NULL, "applied_at" INTEGER NOT NULL);

ALTER TABLE "messagebox_outbox" ADD COLUMN "order_key" TEXT;

CREATE INDEX IF NOT EXISTS "messagebox_outbox_key_order" ON "messagebox_outbox" ("order_key") WHERE "order_key" IS NOT NULL AND "status" IN ('pending', 'dead');

ALTER TABLE "messagebox_inbox" ADD COLUMN "order_key" TEXT;

CREATE INDEX IF NOT EXISTS "messagebox_inbox_key_order" ON "messagebox_inbox" ("source", "order_key") WHERE "order_key" IS NOT NULL AND "status" IN ('received', 'dead');

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0005_ordering_keys', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0005_ordering_keys');
