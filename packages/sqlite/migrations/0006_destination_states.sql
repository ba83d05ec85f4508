-- messagebox migration 0006_destination_states for SQLite (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" TEXT PRIMARY KEY NOT NULL, "applied_at" INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS "messagebox_destinations" (
  "destination" TEXT NOT NULL,
  "worker" TEXT NOT NULL,
  "breaker" TEXT NOT NULL,
  "consecutive_failures" INTEGER NOT NULL,
  "open_until" INTEGER,
  "paused_until" INTEGER,
  "updated_at" INTEGER NOT NULL,
  PRIMARY KEY ("destination", "worker")
);

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0006_destination_states', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0006_destination_states');
