import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `"${name}"`;
const ref = (t: MessageboxTables, name: string) => (t.schema ? `${q(t.schema)}.${q(name)}` : q(name));
const createSchema = (t: MessageboxTables) => (t.schema ? [`CREATE SCHEMA IF NOT EXISTS ${q(t.schema)}`] : []);

/**
 * Tables with partial indexes on waiting rows (claims) and finished rows
 * (purge). The inbox's primary key is `(source, id)`: a message's identity.
 */
export function postgresCreateTables(t: MessageboxTables): string[] {
  const common = `"source" varchar(255) NOT NULL,
  "type" varchar(255) NOT NULL,
  "payload" text NOT NULL,
  "headers" text NOT NULL,
  "created_at" bigint NOT NULL,
  "status" varchar(16) NOT NULL,
  "attempts" integer NOT NULL DEFAULT 0,`;
  const outbox = ref(t, t.outbox);
  const inbox = ref(t, t.inbox);
  return [
    ...createSchema(t),
    `CREATE TABLE IF NOT EXISTS ${outbox} (
  "id" varchar(255) PRIMARY KEY,
  ${common}
  "available_at" bigint NOT NULL,
  "last_error" text,
  "sent_at" bigint,
  "lease_until" bigint,
  "claim_token" varchar(255)
)`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_due`)} ON ${outbox} ("available_at", "id") WHERE "status" = 'pending'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_sent`)} ON ${outbox} ("sent_at") WHERE "status" = 'sent'`,
    `CREATE TABLE IF NOT EXISTS ${inbox} (
  "id" varchar(255) NOT NULL,
  ${common}
  "received_at" bigint NOT NULL,
  "available_at" bigint NOT NULL,
  "last_error" text,
  "processed_at" bigint,
  "lease_until" bigint,
  "claim_token" varchar(255),
  PRIMARY KEY ("source", "id")
)`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_due`)} ON ${inbox} ("available_at", "id") WHERE "status" = 'received'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_processed`)} ON ${inbox} ("processed_at") WHERE "status" = 'processed'`,
  ];
}

export function postgresCreateMigrationsTable(t: MessageboxTables): string[] {
  return [...createSchema(t), `CREATE TABLE IF NOT EXISTS ${ref(t, t.migrations)} ("name" varchar(255) PRIMARY KEY, "applied_at" bigint NOT NULL)`];
}

/**
 * Migration `0002_inbox_identity_source_id`: an inbox created with the
 * primary key `id` gets `(source, id)` instead (one `ALTER TABLE`, which
 * rebuilds the key's index under an exclusive lock). Nothing happens when the
 * key has two columns already (a table created by today's DDL).
 */
export function postgresInboxIdentityMigration(t: MessageboxTables): string[] {
  const inbox = ref(t, t.inbox);
  return [
    `DO $$
DECLARE pk name;
BEGIN
  SELECT conname INTO pk FROM pg_constraint WHERE conrelid = to_regclass('${inbox}') AND contype = 'p' AND array_length(conkey, 1) = 1;
  IF pk IS NOT NULL THEN
    EXECUTE format('ALTER TABLE ${inbox} DROP CONSTRAINT %I, ADD PRIMARY KEY ("source", "id")', pk);
  END IF;
END $$`,
  ];
}

/**
 * Migration `0004_operations_indexes`, for the dashboard's overview and dead
 * letter pages. Partial indexes on finished and dead rows only, so a claim
 * (`status` = waiting) never picks one of them: finished rows by type (counts
 * from the index alone); dead rows in list order (keyset pages), and by type
 * then list order (counts by type, pages filtered by type).
 */
export function postgresOperationsIndexes(t: MessageboxTables): string[] {
  const outbox = ref(t, t.outbox);
  const inbox = ref(t, t.inbox);
  return [
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_sent_type`)} ON ${outbox} ("type") WHERE "status" = 'sent'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_dead`)} ON ${outbox} ("created_at", "id") WHERE "status" = 'dead'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_dead_type`)} ON ${outbox} ("type", "created_at", "id") WHERE "status" = 'dead'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_processed_type`)} ON ${inbox} ("type") WHERE "status" = 'processed'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_dead`)} ON ${inbox} ("received_at", "id", "source") WHERE "status" = 'dead'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_dead_type`)} ON ${inbox} ("type", "received_at", "id", "source") WHERE "status" = 'dead'`,
  ];
}

/**
 * Migration `0006_destination_states`: one row per (destination, outbox
 * worker), written only when a circuit breaker changes state or a busy
 * answer pauses a destination, and read by `messagebox status`. A handful
 * of rows per worker; no index beyond the key.
 */
export function postgresDestinationStatesTable(t: MessageboxTables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${ref(t, t.destinations)} (
  "destination" varchar(255) NOT NULL,
  "worker" varchar(255) NOT NULL,
  "breaker" varchar(16) NOT NULL,
  "consecutive_failures" integer NOT NULL,
  "open_until" bigint NULL,
  "paused_until" bigint NULL,
  "updated_at" bigint NOT NULL,
  PRIMARY KEY ("destination", "worker")
)`,
  ];
}
