-- messagebox migration 0002_inbox_identity_source_id for PostgreSQL (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS "messagebox_migrations" ("name" varchar(255) PRIMARY KEY, "applied_at" bigint NOT NULL);

DO $$
DECLARE pk name;
BEGIN
  SELECT conname INTO pk FROM pg_constraint WHERE conrelid = to_regclass('"messagebox_inbox"') AND contype = 'p' AND array_length(conkey, 1) = 1;
  IF pk IS NOT NULL THEN
    EXECUTE format('ALTER TABLE "messagebox_inbox" DROP CONSTRAINT %I, ADD PRIMARY KEY ("source", "id")', pk);
  END IF;
END $$;

INSERT INTO "messagebox_migrations" (name, applied_at) SELECT '0002_inbox_identity_source_id', 0 WHERE NOT EXISTS (SELECT 1 FROM "messagebox_migrations" WHERE name = '0002_inbox_identity_source_id');
