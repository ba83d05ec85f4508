-- messagebox migration 0004_operations_indexes for PostgreSQL (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" varchar(255) PRIMARY KEY, "applied_at" bigint NOT NULL);

CREATE INDEX IF NOT EXISTS "messagebox_outbox_sent_type" ON "messagebox_outbox" ("type") WHERE "status" = 'sent';

CREATE INDEX IF NOT EXISTS "messagebox_outbox_dead" ON "messagebox_outbox" ("created_at", "id") WHERE "status" = 'dead';

CREATE INDEX IF NOT EXISTS "messagebox_outbox_dead_type" ON "messagebox_outbox" ("type", "created_at", "id") WHERE "status" = 'dead';

CREATE INDEX IF NOT EXISTS "messagebox_inbox_processed_type" ON "messagebox_inbox" ("type") WHERE "status" = 'processed';

CREATE INDEX IF NOT EXISTS "messagebox_inbox_dead" ON "messagebox_inbox" ("received_at", "id", "source") WHERE "status" = 'dead';

CREATE INDEX IF NOT EXISTS "messagebox_inbox_dead_type" ON "messagebox_inbox" ("type", "received_at", "id", "source") WHERE "status" = 'dead';

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0004_operations_indexes', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0004_operations_indexes');
