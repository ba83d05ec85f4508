import type { Clock } from '@messagebox/core';
import { createKyselyStorage, type MessageboxStorage } from '@messagebox/kysely';
import type { Kysely, Transaction } from 'kysely';
import { mysqlDialect } from './mysql-dialect.js';

/** Options of {@link createMysqlStorage}. */
export interface MysqlStorageOptions<DB> {
  /** Your Kysely instance on a `MysqlDialect` (mysql2). */
  db: Kysely<DB>;
  /** Prepended to the table names. Default `messagebox_`. */
  tablePrefix?: string;
  /** Replaces the database clock (tests of backoff). */
  clock?: Clock;
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
  return createKyselyStorage({ db: options.db, dialect: mysqlDialect, tablePrefix: options.tablePrefix, clock: options.clock });
}
