import { MessageboxError } from '@messagebox/core';
import { integer, updateWithLockedSelect, type AnyDb, type MessageboxDialect } from '@messagebox/kysely';
import { sql } from 'kysely';
import { mysqlClaim } from './mysql-claim.js';
import { mysqlClaimOrderIndexes, mysqlCreateMigrationsTable, mysqlCreateTables, mysqlDestinationStatesTable, mysqlInboxIdentityMigration } from './mysql-ddl.js';
import { mysqlKeyOrderMigration } from './mysql-key-order-ddl.js';
import { mysqlInsertIfAbsent } from './mysql-insert-if-absent.js';
import { mysqlInsertManyIfAbsent } from './mysql-insert-many-if-absent.js';

const MIGRATION_LOCK = 'messagebox.migrate';

/** Options of {@link createMysqlDialect}. */
export interface MysqlDialectOptions {
  /** How long `migrate()` waits for another process's migration to finish (`GET_LOCK`), rounded up to whole seconds. Default 60 s. */
  migrationLockTimeoutMs?: number;
}

/**
 * MySQL 8 and MariaDB 10.6+: database time in UTC from `UTC_TIMESTAMP(6)`
 * (independent of the session `time_zone`, so a daylight-saving change does
 * not move leases), claims with `FOR UPDATE SKIP LOCKED` in due order,
 * completion via a locked select (no `RETURNING`), migrations serialised with
 * `GET_LOCK`. No cross-process wake-up: workers poll.
 *
 * @example
 * const storage = createKyselyStorage({ db, dialect: createMysqlDialect({ migrationLockTimeoutMs: 10_000 }) });
 */
export function createMysqlDialect(options: MysqlDialectOptions = {}): MessageboxDialect {
  const lockTimeoutS = Math.max(0, Math.ceil(integer(options.migrationLockTimeoutMs ?? 60_000, 'migrationLockTimeoutMs') / 1000));
  return {
    name: 'mysql',
    nowMs: () => sql<number>`(timestampdiff(microsecond, '1970-01-01 00:00:00', utc_timestamp(6)) div 1000)`,
    contains: (column, text) => sql<boolean>`instr(${sql.ref(column)}, ${text}) > 0`,
    createTables: mysqlCreateTables,
    createMigrationsTable: mysqlCreateMigrationsTable,
    inboxIdentityMigration: mysqlInboxIdentityMigration,
    claimOrderIndexes: mysqlClaimOrderIndexes,
    destinationStatesTable: mysqlDestinationStatesTable,
    keyOrderMigration: mysqlKeyOrderMigration,
    claim: mysqlClaim,
    updateReturningIds: updateWithLockedSelect,
    insertIfAbsent: mysqlInsertIfAbsent,
    insertManyIfAbsent: mysqlInsertManyIfAbsent,
    withMigrationLock: (db: AnyDb, fn) =>
      db.connection().execute(async (conn) => {
        const { rows } = await sql<{ locked: number | string | null }>`select get_lock(${MIGRATION_LOCK}, ${lockTimeoutS}) as locked`.execute(conn);
        const locked = rows[0]?.locked;
        if (locked === null || locked === undefined || Number(locked) !== 1) {
          throw new MessageboxError(
            'store_failed',
            locked === null || locked === undefined
              ? `migrate() could not take the MySQL lock "${MIGRATION_LOCK}" (GET_LOCK returned NULL); nothing was migrated`
              : `migrate() waited ${lockTimeoutS} s for the MySQL lock "${MIGRATION_LOCK}", which another migrate() still holds; nothing was migrated (raise migrationLockTimeoutMs, or find the session holding it with IS_USED_LOCK)`,
          );
        }
        try {
          return await fn(conn);
        } finally {
          await sql`select release_lock(${MIGRATION_LOCK})`.execute(conn);
        }
      }),
  };
}

/** The MySQL/MariaDB dialect with default options. */
export const mysqlDialect: MessageboxDialect = createMysqlDialect();
