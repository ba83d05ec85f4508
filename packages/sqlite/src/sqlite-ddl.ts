import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `"${name}"`;

/** Tables and partial indexes on the rows still waiting, so claiming stays fast beside many finished rows. */
export function sqliteCreateTables(t: MessageboxTables): string[] {
  const common = `"id" TEXT PRIMARY KEY NOT NULL,
  "source" TEXT NOT NULL,
  "type" TEXT NOT NULL,
  "payload" TEXT NOT NULL,
  "headers" TEXT NOT NULL,
  "created_at" INTEGER NOT NULL,
  "status" TEXT NOT NULL,
  "attempts" INTEGER NOT NULL DEFAULT 0,`;
  return [
    `CREATE TABLE IF NOT EXISTS ${q(t.outbox)} (
  ${common}
  "available_at" INTEGER NOT NULL,
  "last_error" TEXT,
  "sent_at" INTEGER,
  "lease_until" INTEGER,
  "claim_token" TEXT
)`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_due`)} ON ${q(t.outbox)} ("available_at", "id") WHERE "status" = 'pending'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.outbox}_sent`)} ON ${q(t.outbox)} ("sent_at") WHERE "status" = 'sent'`,
    `CREATE TABLE IF NOT EXISTS ${q(t.inbox)} (
  ${common}
  "received_at" INTEGER NOT NULL,
  "available_at" INTEGER NOT NULL,
  "last_error" TEXT,
  "processed_at" INTEGER,
  "lease_until" INTEGER,
  "claim_token" TEXT
)`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_due`)} ON ${q(t.inbox)} ("available_at", "id") WHERE "status" = 'received'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_processed`)} ON ${q(t.inbox)} ("processed_at") WHERE "status" = 'processed'`,
  ];
}

export function sqliteCreateMigrationsTable(t: MessageboxTables): string[] {
  return [`CREATE TABLE IF NOT EXISTS ${q(t.migrations)} ("name" TEXT PRIMARY KEY NOT NULL, "applied_at" INTEGER NOT NULL)`];
}
