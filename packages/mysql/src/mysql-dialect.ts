import { updateWithLockedSelect, type AnyDb, type MessageboxDialect } from '@messagebox/kysely';
import { sql } from 'kysely';
import { mysqlClaim } from './mysql-claim.js';
import { mysqlCreateMigrationsTable, mysqlCreateTables, mysqlInboxIdentityMigration } from './mysql-ddl.js';
import { mysqlInsertIfAbsent } from './mysql-insert-if-absent.js';
import { mysqlInsertManyIfAbsent } from './mysql-insert-many-if-absent.js';

const MIGRATION_LOCK_TIMEOUT_S = 60;

/**
 * MySQL 8 and MariaDB 10.6+: database time from `NOW(3)`, claims with
 * `FOR UPDATE SKIP LOCKED`, completion via a locked select (no `RETURNING`),
 * migrations serialised with `GET_LOCK`. No cross-process wake-up: workers poll.
 */
export const mysqlDialect: MessageboxDialect = {
  name: 'mysql',
  nowMs: () => sql<number>`cast(unix_timestamp(now(3)) * 1000 as signed)`,
  contains: (column, text) => sql<boolean>`instr(${sql.ref(column)}, ${text}) > 0`,
  createTables: mysqlCreateTables,
  createMigrationsTable: mysqlCreateMigrationsTable,
  inboxIdentityMigration: mysqlInboxIdentityMigration,
  claim: mysqlClaim,
  updateReturningIds: updateWithLockedSelect,
  insertIfAbsent: mysqlInsertIfAbsent,
  insertManyIfAbsent: mysqlInsertManyIfAbsent,
  withMigrationLock: (db: AnyDb, fn) =>
    db.connection().execute(async (conn) => {
      await sql`select get_lock('messagebox.migrate', ${MIGRATION_LOCK_TIMEOUT_S})`.execute(conn);
      try {
        return await fn(conn);
      } finally {
        await sql`select release_lock('messagebox.migrate')`.execute(conn);
      }
    }),
};
