-- messagebox migration 0003_mysql_claim_order for SQLite (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.
-- Nothing changes for SQLite: the file only records the migration.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" TEXT PRIMARY KEY NOT NULL, "applied_at" INTEGER NOT NULL);

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0003_mysql_claim_order', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0003_mysql_claim_order');
