import { MessageboxError } from '@messagebox/core';
import type { AnyDb, AnyTx, AtCommit } from '@messagebox/kysely';
import { CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, TransactionBuilder, type DatabaseConnection, type Dialect, type Driver } from 'kysely';

const BEGIN = CompiledQuery.raw('begin');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

const unused = () => Promise.reject(new Error('[messagebox] the COMMIT-statements driver only begins, commits and rolls back transactions'));

/**
 * Begins, commits and rolls back on the connection Kysely's own driver hands
 * out (it never opens one itself); its COMMIT carries the statements queued
 * in `queued`, in one query without parameters: pg sends it over the simple
 * query protocol, which runs `INSERT …; COMMIT` in one round trip and stops
 * at the first statement that fails (the transaction is then aborted, its
 * COMMIT never runs, and the driver's rollback ends it).
 */
function commitStatementsDriver(queued: readonly string[]): Driver {
  return {
    init: async () => {},
    acquireConnection: unused,
    beginTransaction: async (connection: DatabaseConnection) => void (await connection.executeQuery(BEGIN)),
    commitTransaction: async (connection: DatabaseConnection) => {
      if (queued.length === 0) return void (await connection.executeQuery(COMMIT));
      try {
        await connection.executeQuery(CompiledQuery.raw(`${queued.join(';\n')};\ncommit`));
      } catch (error) {
        throw new MessageboxError(
          'store_failed',
          `the transaction was rolled back, not committed: a statement it queued for COMMIT (the outbox rows that add() wrote) failed: ${(error as Error | undefined)?.message ?? String(error)}`,
          { cause: error },
        );
      }
    },
    rollbackTransaction: async (connection: DatabaseConnection) => void (await connection.executeQuery(ROLLBACK)),
    releaseConnection: async () => {},
    destroy: async () => {},
  };
}

/**
 * `MessageboxDialect.transactionWithCommitStatements` for Postgres: a Kysely
 * transaction on the caller's Kysely instance (its connection, plugins and
 * executor, as `db.transaction()`), whose COMMIT also runs the statements
 * queued with `atCommit`, in the same round trip. A failure of one of them
 * rejects with `MessageboxError` `store_failed` (the database's error as
 * `cause`) and commits nothing.
 *
 * @example
 * await postgresTransactionWithCommitStatements(db, async (tx, atCommit) => {
 *   await tx.insertInto('payment').values(payment).execute();
 *   atCommit(`insert into audit (note) values (${pg.escapeLiteral(note)})`);
 * });
 */
export function postgresTransactionWithCommitStatements<T>(db: AnyDb, fn: (tx: AnyTx, atCommit: AtCommit) => Promise<T>): Promise<T> {
  const queued: string[] = [];
  const driver = commitStatementsDriver(queued);
  const dialect: Dialect = {
    createDriver: () => driver,
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createAdapter: () => new PostgresAdapter(),
    createIntrospector: (kysely) => new PostgresIntrospector(kysely),
  };
  return new TransactionBuilder({ config: { dialect }, dialect, driver, executor: db.getExecutor() }).execute((tx) => fn(tx, (statement) => void queued.push(statement)));
}
