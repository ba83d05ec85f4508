import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `"${name}"`;

/** Tables and partial indexes on the rows still waiting, so claiming stays fast beside many finished rows. */
export function sqliteCreateTables(t: MessageboxTables): string[] {
  const common = `"source" TEXT NOT NULL,
  "type" TEXT NOT NULL,
  "payload" TEXT NOT NULL,
  "headers" TEXT NOT NULL,
  "created_at" INTEGER NOT NULL,
  "status" TEXT NOT NULL,
  "attempts" INTEGER NOT NULL DEFAULT 0,`;
  return [
    `CREATE TABLE IF NOT EXISTS ${q(t.outbox)} (
  "id" TEXT PRIMARY KEY NOT NULL,
  ${common}
  "available_at" INTEGER NOT NULL,
  "last_error" TEXT,
  "sent_at" INTEGER,
  "lease_until" INTEGER,
  "claim_token" TEXT
)`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_due`)} ON ${q(t.outbox)} ("available_at", "id") WHERE "status" = 'pending'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_sent`)} ON ${q(t.outbox)} ("sent_at") WHERE "status" = 'sent'`,
    ...sqliteInboxTable(t, t.inbox),
  ];
}

/** The inbox table, keyed by `(source, id)` (a message's identity), and its indexes, under the name `table`. */
function sqliteInboxTable(t: MessageboxTables, table: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(table)} (
  "id" TEXT NOT NULL,
  ${INBOX_COLUMNS},
  PRIMARY KEY ("source", "id")
)`,
    ...sqliteInboxIndexes(t),
  ];
}

function sqliteInboxIndexes(t: MessageboxTables): string[] {
  return [
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_due`)} ON ${q(t.inbox)} ("available_at", "id") WHERE "status" = 'received'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_processed`)} ON ${q(t.inbox)} ("processed_at") WHERE "status" = 'processed'`,
  ];
}

const INBOX_COLUMNS = `"source" TEXT NOT NULL,
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
  "claim_token" TEXT`;

const INBOX_COLUMN_NAMES = ['id', 'source', 'type', 'payload', 'headers', 'created_at', 'status', 'attempts', 'received_at', 'available_at', 'last_error', 'processed_at', 'lease_until', 'claim_token'];

/**
 * Migration `0002_inbox_identity_source_id`: SQLite cannot change a primary
 * key in place, so the inbox is rebuilt: create the new table, copy every
 * row, drop the old one, rename, recreate the indexes. The migration runs in
 * one transaction, so a crash leaves the old table or the new one, never
 * neither.
 */
export function sqliteInboxIdentityMigration(t: MessageboxTables): string[] {
  const rebuilt = `${t.inbox}_rebuild`;
  const columns = INBOX_COLUMN_NAMES.map(q).join(', ');
  return [
    `DROP TABLE IF EXISTS ${q(rebuilt)}`,
    ...sqliteInboxTable(t, rebuilt).slice(0, 1),
    `INSERT INTO ${q(rebuilt)} (${columns}) SELECT ${columns} FROM ${q(t.inbox)}`,
    `DROP TABLE ${q(t.inbox)}`,
    `ALTER TABLE ${q(rebuilt)} RENAME TO ${q(t.inbox)}`,
    ...sqliteInboxIndexes(t),
  ];
}

export function sqliteCreateMigrationsTable(t: MessageboxTables): string[] {
  return [`CREATE TABLE IF NOT EXISTS ${q(t.migrations)} ("name" TEXT PRIMARY KEY NOT NULL, "applied_at" INTEGER NOT NULL)`];
}

/**
 * Migration `0004_operations_indexes`, for the dashboard's overview and dead
 * letter pages. Partial indexes on finished and dead rows only, so a claim
 * (`status` = waiting) never picks one of them: finished rows by type (counts
 * from the index alone); dead rows in list order (keyset pages), and by type
 * then list order (counts by type, pages filtered by type).
 */
export function sqliteOperationsIndexes(t: MessageboxTables): string[] {
  return [
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_sent_type`)} ON ${q(t.outbox)} ("type") WHERE "status" = 'sent'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_dead`)} ON ${q(t.outbox)} ("created_at", "id") WHERE "status" = 'dead'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_dead_type`)} ON ${q(t.outbox)} ("type", "created_at", "id") WHERE "status" = 'dead'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_processed_type`)} ON ${q(t.inbox)} ("type") WHERE "status" = 'processed'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_dead`)} ON ${q(t.inbox)} ("received_at", "id", "source") WHERE "status" = 'dead'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_dead_type`)} ON ${q(t.inbox)} ("type", "received_at", "id", "source") WHERE "status" = 'dead'`,
  ];
}

/**
 * Migration `0006_destination_states`: one row per (destination, outbox
 * worker), written only when a circuit breaker changes state or a busy
 * answer pauses a destination, and read by `messagebox status`.
 */
export function sqliteDestinationStatesTable(t: MessageboxTables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(t.destinations)} (
  "destination" TEXT NOT NULL,
  "worker" TEXT NOT NULL,
  "breaker" TEXT NOT NULL,
  "consecutive_failures" INTEGER NOT NULL,
  "open_until" INTEGER,
  "paused_until" INTEGER,
  "updated_at" INTEGER NOT NULL,
  PRIMARY KEY ("destination", "worker")
)`,
  ];
}
