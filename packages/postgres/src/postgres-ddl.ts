import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `"${name}"`;
const ref = (t: MessageboxTables, name: string) => (t.schema ? `${q(t.schema)}.${q(name)}` : q(name));
const createSchema = (t: MessageboxTables) => (t.schema ? [`CREATE SCHEMA IF NOT EXISTS ${q(t.schema)}`] : []);

/** Tables with partial indexes on waiting rows (claims) and finished rows (purge). */
export function postgresCreateTables(t: MessageboxTables): string[] {
  const common = `"id" varchar(255) PRIMARY KEY,
  "source" varchar(255) NOT NULL,
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
  ${common}
  "received_at" bigint NOT NULL,
  "available_at" bigint NOT NULL,
  "last_error" text,
  "processed_at" bigint,
  "lease_until" bigint,
  "claim_token" varchar(255)
)`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_due`)} ON ${inbox} ("available_at", "id") WHERE "status" = 'received'`,
    `CREATE INDEX IF NOT EXISTS ${q(`${t.inbox}_processed`)} ON ${inbox} ("processed_at") WHERE "status" = 'processed'`,
  ];
}

export function postgresCreateMigrationsTable(t: MessageboxTables): string[] {
  return [...createSchema(t), `CREATE TABLE IF NOT EXISTS ${ref(t, t.migrations)} ("name" varchar(255) PRIMARY KEY, "applied_at" bigint NOT NULL)`];
}
