import type { Clock, InboxStore, OutboxStore } from '@messagebox/core';
import type { Kysely, Transaction } from 'kysely';
import type { AnyDb, MessageboxDialect } from './dialect.js';
import { createKyselyInboxStore } from './kysely-inbox-store.js';
import { createKyselyOutboxStore } from './kysely-outbox-store.js';
import { migrationSql, runMigrations } from './migrations.js';
import { resolveTables, type MessageboxTables, type TableNameOptions } from './tables.js';

/**
 * The outbox and inbox stores of one database, with their migrations. Every
 * dialect package returns one (`createSqliteStorage`, `createPostgresStorage`,
 * `createMysqlStorage`).
 *
 * @example
 * const storage = createSqliteStorage({ db });
 * await storage.migrate();
 * await storage.outbox.transaction(async (tx) => {
 *   await tx.insertInto('payment').values(row).execute();
 *   await storage.outbox.add(tx, [message]);
 * });
 */
export interface MessageboxStorage<Tx> {
  readonly outbox: OutboxStore<Tx>;
  readonly inbox: InboxStore<Tx>;
  /** Table names in use. */
  readonly tables: MessageboxTables;
  /** Creates or upgrades the tables; idempotent, safe to call at every start. Returns the migrations it applied. */
  migrate(): Promise<string[]>;
  /** The DDL statements `migrate()` would run on an empty database, for your own migration tool. */
  migrationSql(): string[];
}

/** Options of {@link createKyselyStorage}. */
export interface KyselyStorageOptions<DB> extends TableNameOptions {
  db: Kysely<DB>;
  dialect: MessageboxDialect;
  /** Replaces database time (tests of backoff). Default: the database clock. */
  clock?: Clock;
}

/**
 * Builds a {@link MessageboxStorage} for any {@link MessageboxDialect}.
 *
 * @example
 * const storage = createKyselyStorage({ db, dialect: myDialect, tablePrefix: 'app_' });
 */
export function createKyselyStorage<DB>(options: KyselyStorageOptions<DB>): MessageboxStorage<Transaction<DB>> {
  const tables = resolveTables(options);
  return {
    outbox: createKyselyOutboxStore(options),
    inbox: createKyselyInboxStore(options),
    tables,
    migrate: () => runMigrations(options.db as unknown as AnyDb, options.dialect, tables),
    migrationSql: () => migrationSql(options.dialect, tables),
  };
}
