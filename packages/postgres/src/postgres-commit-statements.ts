import { MessageboxError } from '@messagebox/core';
import type { AnyDb, AnyTx, AtCommit } from '@messagebox/kysely';
import { CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, TransactionBuilder, type DatabaseConnection, type Dialect, type Driver } from 'kysely';

const BEGIN = CompiledQuery.raw('begin');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

/** A Postgres error code: the server answered, and a failed transaction block is rolled back. */
const SQLSTATE = /^[0-9A-Z]{5}$/;

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
        // Without an SQLSTATE the server did not answer (the connection broke): whether it committed is unknown, as for any COMMIT.
        if (!SQLSTATE.test(String((error as { code?: unknown } | undefined)?.code))) throw error;
        throw new MessageboxError(
          'store_failed',
          `the transaction was rolled back, not committed: its COMMIT, which also writes the outbox rows add() was given, failed: ${(error as Error).message}`,
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
 * queued with `atCommit`, in the same round trip. `atCommit` is undefined
 * when the driver under `db` cannot send several statements in one query
 * (asked once per instance; pg can). A failure of one of them
 * rejects with `MessageboxError` `store_failed` (the database's error as
 * `cause`) and commits nothing.
 *
 * @example
 * await postgresTransactionWithCommitStatements(db, async (tx, atCommit) => {
 *   await tx.insertInto('payment').values(payment).execute();
 *   atCommit(`insert into audit (note) values (${pg.escapeLiteral(note)})`);
 * });
 */
export async function postgresTransactionWithCommitStatements<T>(db: AnyDb, fn: (tx: AnyTx, atCommit: AtCommit | undefined) => Promise<T>): Promise<T> {
  if (!(await runsSeveralStatements(db))) return transactionOf(db, [], (tx) => fn(tx, undefined));
  const queued: string[] = [];
  return transactionOf(db, queued, (tx) => fn(tx, (statement) => void queued.push(statement)));
}

function transactionOf<T>(db: AnyDb, queued: string[], fn: (tx: AnyTx) => Promise<T>): Promise<T> {
  const driver = commitStatementsDriver(queued);
  const dialect: Dialect = {
    createDriver: () => driver,
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createAdapter: () => new PostgresAdapter(),
    createIntrospector: (kysely) => new PostgresIntrospector(kysely),
  };
  return new TransactionBuilder({ config: { dialect }, dialect, driver, executor: db.getExecutor() }).execute(fn);
}

/** Per Kysely instance: whether its driver runs a query of several statements (pg does: no parameters, the simple query protocol), asked once (concurrent first transactions share the question). */
const severalStatements = new WeakMap<object, Promise<boolean>>();
/** Postgres refuses several statements in one extended-protocol query ("cannot insert multiple commands into a prepared statement"). */
const SYNTAX_ERROR = '42601';

/**
 * True when `db`'s driver sends a query without parameters so that Postgres
 * runs several statements in it: asked once per Kysely instance (`select 1;
 * select 1`), the answer kept. A driver that always uses the extended
 * protocol gets false, and its rows are inserted at `add`. A failure for
 * another reason (the server unreachable) is not kept: false for now.
 */
function runsSeveralStatements(db: AnyDb): Promise<boolean> {
  const known = severalStatements.get(db);
  if (known !== undefined) return known;
  const asked = db.executeQuery(CompiledQuery.raw('select 1; select 1')).then(
    () => true,
    (error: unknown) => {
      if ((error as { code?: unknown } | undefined)?.code !== SYNTAX_ERROR) severalStatements.delete(db);
      return false;
    },
  );
  severalStatements.set(db, asked);
  return asked;
}
