import { insertManyOnConflictDoNothing, insertOnConflictDoNothing, updateKeysWithReturning, updateWithReturning, type MessageboxDialect } from '@messagebox/kysely';
import { sql } from 'kysely';
import { sqliteClaim } from './sqlite-claim.js';
import { sqliteCreateMigrationsTable, sqliteCreateTables, sqliteDestinationStatesTable, sqliteInboxIdentityMigration, sqliteOperationsIndexes } from './sqlite-ddl.js';
import { sqliteKeyOrderMigration } from './sqlite-key-order-ddl.js';
import { sqliteTransaction } from './sqlite-transaction.js';

/**
 * SQLite (3.42+, for `unixepoch('subsec')`): times in epoch ms from the
 * database clock, claims in one atomic `UPDATE … RETURNING`, store
 * transactions that begin with `BEGIN IMMEDIATE`, no cross-process wake-up
 * (workers poll).
 */
export const sqliteDialect: MessageboxDialect = {
  name: 'sqlite',
  nowMs: () => sql<number>`cast(round(unixepoch('subsec') * 1000) as integer)`,
  contains: (column, text) => sql<boolean>`instr(${sql.ref(column)}, ${text}) > 0`,
  createTables: sqliteCreateTables,
  createMigrationsTable: sqliteCreateMigrationsTable,
  inboxIdentityMigration: sqliteInboxIdentityMigration,
  operationsIndexes: sqliteOperationsIndexes,
  destinationStatesTable: sqliteDestinationStatesTable,
  keyOrderMigration: sqliteKeyOrderMigration,
  orderSequenceColumn: 'rowid',
  // `ALTER TABLE … ADD COLUMN` has no `IF NOT EXISTS`: a column there already is a migration applied already.
  isAlreadyApplied: (error) => error instanceof Error && /^duplicate column name: /.test(error.message),
  claim: sqliteClaim,
  updateReturningIds: updateWithReturning,
  updateReturningKeys: updateKeysWithReturning,
  insertIfAbsent: insertOnConflictDoNothing,
  transaction: sqliteTransaction,
  insertManyIfAbsent: insertManyOnConflictDoNothing,
  oneStatementInsertMany: true,
};
