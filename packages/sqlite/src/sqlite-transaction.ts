import type { AnyDb, AnyTx } from '@messagebox/kysely';
import { CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, TransactionBuilder, type DatabaseConnection, type Dialect, type Driver } from 'kysely';

const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

const NO_TRANSACTION = /no transaction is active/i;

const unused = () => Promise.reject(new Error('[messagebox] the BEGIN IMMEDIATE driver only begins, commits and rolls back transactions'));

/**
 * Begins, commits and rolls back on the connection Kysely's own driver hands
 * out; it never opens or acquires a connection itself.
 */
const immediateDriver: Driver = {
  init: async () => {},
  acquireConnection: unused,
  beginTransaction: async (connection: DatabaseConnection) => void (await connection.executeQuery(BEGIN_IMMEDIATE)),
  commitTransaction: async (connection: DatabaseConnection) => void (await connection.executeQuery(COMMIT)),
  rollbackTransaction: async (connection: DatabaseConnection) => {
    try {
      await connection.executeQuery(ROLLBACK);
    } catch (error) {
      // SQLite already rolled back (ON CONFLICT ROLLBACK, SQLITE_FULL, …): keep the error that caused it, not this one.
      if (!NO_TRANSACTION.test(String((error as Error | undefined)?.message))) throw error;
    }
  },
  releaseConnection: async () => {},
  destroy: async () => {},
};

const dialect: Dialect = {
  createDriver: () => immediateDriver,
  createQueryCompiler: () => new SqliteQueryCompiler(),
  createAdapter: () => new SqliteAdapter(),
  createIntrospector: (db) => new SqliteIntrospector(db),
};

/**
 * A Kysely transaction that starts with `BEGIN IMMEDIATE` instead of the
 * driver's deferred `BEGIN`: it takes SQLite's write lock first, waiting
 * under the busy timeout. A deferred transaction that reads and then writes
 * gets `SQLITE_BUSY` at once, busy timeout or not, when another process wrote
 * since its read. The connection, plugins and the `Transaction` handed to
 * `fn` are the caller's Kysely's own, as with `db.transaction()`.
 */
export function sqliteTransaction<T>(db: AnyDb, fn: (tx: AnyTx) => Promise<T>): Promise<T> {
  return new TransactionBuilder({ config: { dialect }, dialect, driver: immediateDriver, executor: db.getExecutor() }).execute(fn);
}
