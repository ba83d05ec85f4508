-- messagebox migration 0005_ordering_keys for PostgreSQL (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" varchar(255) PRIMARY KEY, "applied_at" bigint NOT NULL);

ALTER TABLE "messagebox_outbox" ADD COLUMN IF NOT EXISTS "order_key" varchar(255);

CREATE SEQUENCE IF NOT EXISTS "messagebox_outbox_order_seq";

ALTER TABLE "messagebox_outbox" ADD COLUMN IF NOT EXISTS "order_seq" bigint;

ALTER TABLE "messagebox_outbox" ALTER COLUMN "order_seq" SET DEFAULT nextval('"messagebox_outbox_order_seq"');

ALTER SEQUENCE "messagebox_outbox_order_seq" OWNED BY "messagebox_outbox"."order_seq";

CREATE INDEX IF NOT EXISTS "messagebox_outbox_key_order" ON "messagebox_outbox" ("order_key", "order_seq") WHERE "order_key" IS NOT NULL AND "status" IN ('pending', 'dead');

ALTER TABLE "messagebox_inbox" ADD COLUMN IF NOT EXISTS "order_key" varchar(255);

CREATE SEQUENCE IF NOT EXISTS "messagebox_inbox_order_seq";

ALTER TABLE "messagebox_inbox" ADD COLUMN IF NOT EXISTS "order_seq" bigint;

ALTER TABLE "messagebox_inbox" ALTER COLUMN "order_seq" SET DEFAULT nextval('"messagebox_inbox_order_seq"');

ALTER SEQUENCE "messagebox_inbox_order_seq" OWNED BY "messagebox_inbox"."order_seq";

CREATE INDEX IF NOT EXISTS "messagebox_inbox_key_order" ON "messagebox_inbox" ("source", "order_key", "order_seq") WHERE "order_key" IS NOT NULL AND "status" IN ('received', 'dead');

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0005_ordering_keys', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0005_ordering_keys');
