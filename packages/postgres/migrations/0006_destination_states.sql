-- messagebox migration 0006_destination_states for PostgreSQL (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" varchar(255) PRIMARY KEY, "applied_at" bigint NOT NULL);

CREATE TABLE IF NOT EXISTS "messagebox_destinations" (
  "destination" varchar(255) NOT NULL,
  "worker" varchar(255) NOT NULL,
  "breaker" varchar(16) NOT NULL,
  "consecutive_failures" integer NOT NULL,
  "open_until" bigint NULL,
  "paused_until" bigint NULL,
  "updated_at" bigint NOT NULL,
  PRIMARY KEY ("destination", "worker")
);

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0006_destination_states', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0006_destination_states');
