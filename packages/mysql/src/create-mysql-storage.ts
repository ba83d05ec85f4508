import type { Clock } from '@messagebox/core';
import { createKyselyStorage, type MessageboxStorage } from '@messagebox/kysely';
import type { Kysely, Transaction } from 'kysely';
import { createMysqlDialect } from './mysql-dialect.js';

/** Options of {@link createMysqlStorage}. */
export interface MysqlStorageOptions<DB> {
  /** Your Kysely instance on a `MysqlDialect` (mysql2). */
  db: Kysely<DB>;
  /** Prepended to the table names. Default `messagebox_`. */
  tablePrefix?: string;
  /** Replaces the database clock (tests of backoff). */
  clock?: Clock;
  /**
   * How long `migrate()` waits for a concurrent `migrate()` (`GET_LOCK`),
   * rounded up to whole seconds; when it runs out, `migrate()` rejects with a
   * `MessageboxError` (`store_failed`) and migrates nothing. Default 60 s.
   */
  migrationLockTimeoutMs?: number;
}

/**
 * Outbox and inbox stores in your MySQL 8 or MariaDB 10.6+ database.
 *
 * @example
 * const db = new Kysely<DB>({ dialect: new MysqlDialect({ pool: createPool({ uri }) }) });
 * const storage = createMysqlStorage({ db });
 * await storage.migrate();
 * const outbox = createOutbox({ store: storage.outbox, source: 'vault' });
 */
export function createMysqlStorage<DB>(options: MysqlStorageOptions<DB>): MessageboxStorage<Transaction<DB>> {
  const dialect = createMysqlDialect({ migrationLockTimeoutMs: options.migrationLockTimeoutMs });
  return createKyselyStorage({ db: options.db, dialect, tablePrefix: options.tablePrefix, clock: options.clock });
}
