import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `\`${name}\``;
const ascii = (length: number) => `VARCHAR(${length}) CHARACTER SET ascii COLLATE ascii_bin`;
const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/**
 * Tables with covering indexes led by `status` (MySQL has no partial
 * indexes): the claim scan reads only waiting rows, in due order. Indexes are
 * declared inline because MySQL 8 has no `CREATE INDEX IF NOT EXISTS`.
 */
export function mysqlCreateTables(t: MessageboxTables): string[] {
  const common = `${q('id')} ${ascii(255)} NOT NULL,
  ${q('source')} ${ascii(255)} NOT NULL,
  ${q('type')} ${ascii(255)} NOT NULL,
  ${q('payload')} LONGTEXT NOT NULL,
  ${q('headers')} MEDIUMTEXT NOT NULL,
  ${q('created_at')} BIGINT NOT NULL,
  ${q('status')} ${ascii(16)} NOT NULL,
  ${q('attempts')} INT NOT NULL DEFAULT 0,`;
  return [
    `CREATE TABLE IF NOT EXISTS ${q(t.outbox)} (
  ${common}
  ${q('available_at')} BIGINT NOT NULL,
  ${q('last_error')} MEDIUMTEXT NULL,
  ${q('sent_at')} BIGINT NULL,
  ${q('lease_until')} BIGINT NULL,
  ${q('claim_token')} ${ascii(255)} NULL,
  PRIMARY KEY (${q('id')}),
  KEY ${q(`${t.outbox}_due`)} (${q('status')}, ${q('available_at')}, ${q('lease_until')}),
  KEY ${q(`${t.outbox}_sent`)} (${q('status')}, ${q('sent_at')}),
  KEY ${q(`${t.outbox}_status_created`)} (${q('status')}, ${q('created_at')})
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS ${q(t.inbox)} (
  ${common}
  ${q('received_at')} BIGINT NOT NULL,
  ${q('available_at')} BIGINT NOT NULL,
  ${q('last_error')} MEDIUMTEXT NULL,
  ${q('processed_at')} BIGINT NULL,
  ${q('lease_until')} BIGINT NULL,
  ${q('claim_token')} ${ascii(255)} NULL,
  PRIMARY KEY (${q('source')}, ${q('id')}),
  KEY ${q(`${t.inbox}_due`)} (${q('status')}, ${q('available_at')}, ${q('lease_until')}),
  KEY ${q(`${t.inbox}_processed`)} (${q('status')}, ${q('processed_at')}),
  KEY ${q(`${t.inbox}_status_received`)} (${q('status')}, ${q('received_at')})
) ${TABLE_OPTIONS}`,
  ];
}

export function mysqlCreateMigrationsTable(t: MessageboxTables): string[] {
  return [`CREATE TABLE IF NOT EXISTS ${q(t.migrations)} (${q('name')} ${ascii(255)} NOT NULL PRIMARY KEY, ${q('applied_at')} BIGINT NOT NULL) ${TABLE_OPTIONS}`];
}

/**
 * Migration `0002_inbox_identity_source_id`: the inbox's primary key becomes
 * `(source, id)`, a message's identity. One `ALTER TABLE` (InnoDB rebuilds
 * the table); harmless on a table that has that key already.
 */
export function mysqlInboxIdentityMigration(t: MessageboxTables): string[] {
  return [`ALTER TABLE ${q(t.inbox)} DROP PRIMARY KEY, ADD PRIMARY KEY (${q('source')}, ${q('id')})`];
}

/**
 * Migration `0003_mysql_claim_order`: replaces the `(status, available_at,
 * lease_until)` due index with `(status, available_at, id, lease_until)`, which
 * yields waiting rows in the claim's `ORDER BY available_at, id` without a
 * sort and still filters leases from the index.
 */
export function mysqlClaimOrderIndexes(t: MessageboxTables): string[] {
  return [t.outbox, t.inbox].map(
    (table) =>
      `ALTER TABLE ${q(table)} ADD KEY ${q(`${table}_claim`)} (${q('status')}, ${q('available_at')}, ${q('id')}, ${q('lease_until')}), DROP KEY ${q(`${table}_due`)}`,
  );
}

/**
 * Migration `0006_destination_states`: one row per (destination, outbox
 * worker), written only when a circuit breaker changes state or a busy
 * answer pauses a destination, and read by `messagebox status`.
 */
export function mysqlDestinationStatesTable(t: MessageboxTables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(t.destinations)} (
  ${q('destination')} VARCHAR(255) NOT NULL,
  ${q('worker')} VARCHAR(255) NOT NULL,
  ${q('breaker')} ${ascii(16)} NOT NULL,
  ${q('consecutive_failures')} INT NOT NULL,
  ${q('open_until')} BIGINT NULL,
  ${q('paused_until')} BIGINT NULL,
  ${q('updated_at')} BIGINT NOT NULL,
  PRIMARY KEY (${q('destination')}, ${q('worker')})
) ${TABLE_OPTIONS}`,
  ];
}
