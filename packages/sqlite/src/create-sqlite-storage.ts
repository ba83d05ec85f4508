import type { Clock } from '@messagebox/core';
import { createKyselyStorage, type MessageboxStorage } from '@messagebox/kysely';
import type { Kysely, Transaction } from 'kysely';
import { sqliteDialect } from './sqlite-dialect.js';

/** Options of {@link createSqliteStorage}. */
export interface SqliteStorageOptions<DB> {
  /** Your Kysely instance on a `SqliteDialect` (better-sqlite3). */
  db: Kysely<DB>;
  /** Prepended to the table names. Default `messagebox_`. */
  tablePrefix?: string;
  /** Replaces the database clock (tests of backoff). */
  clock?: Clock;
}

/**
 * Outbox and inbox stores in your SQLite database. Use WAL mode and a busy
 * timeout when several processes share the file.
 *
 * @example
 * const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database('app.db') }) });
 * const storage = createSqliteStorage({ db });
 * await storage.migrate();
 * const outbox = createOutbox({ store: storage.outbox, source: 'vault' });
 */
export function createSqliteStorage<DB>(options: SqliteStorageOptions<DB>): MessageboxStorage<Transaction<DB>> {
  return createKyselyStorage({ db: options.db, dialect: sqliteDialect, tablePrefix: options.tablePrefix, clock: options.clock });
}
