import type { Clock } from '@messagebox/core';
import { createKyselyStorage, type AnyDb, type MessageboxStorage } from '@messagebox/kysely';
import type { Kysely, Transaction } from 'kysely';
import { afterReady, applyConnectionSettings, once } from './sqlite-connection-settings.js';
import { sqliteDialect } from './sqlite-dialect.js';

/** Options of {@link createSqliteStorage}. */
export interface SqliteStorageOptions<DB> {
  /** Your Kysely instance on a `SqliteDialect` (better-sqlite3). */
  db: Kysely<DB>;
  /** Prepended to the table names. Default `messagebox_`. */
  tablePrefix?: string;
  /** Replaces the database clock (tests of backoff). */
  clock?: Clock;
  /**
   * Switch the database file to WAL mode (persistent, for every connection),
   * so readers do not block the writer. Default true; `false` keeps your
   * journal mode.
   */
  wal?: boolean;
  /**
   * The least busy timeout of the connection: how long a write waits for
   * another process's write lock before `SQLITE_BUSY`. A lower one is raised
   * to it. Default 5,000 ms.
   */
  busyTimeoutMs?: number;
}

/**
 * Outbox and inbox stores in your SQLite database, correct with several
 * processes on one file by default: before its first operation the storage
 * switches the file to WAL and makes sure of a busy timeout (or rejects with
 * a clear `MessageboxError`), its transactions begin with `BEGIN IMMEDIATE`,
 * and the inbox runs one handler transaction at a time
 * (`inbox.maxConcurrentTransactions` is 1: Kysely's SQLite driver has one
 * connection), so a receive never waits behind a queue of handlers.
 *
 * @example
 * const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database('app.db') }) });
 * const storage = createSqliteStorage({ db });
 * await storage.migrate();
 * const outbox = createOutbox({ store: storage.outbox, source: 'vault' });
 */
export function createSqliteStorage<DB>(options: SqliteStorageOptions<DB>): MessageboxStorage<Transaction<DB>> {
  const storage = createKyselyStorage({ db: options.db, dialect: sqliteDialect, tablePrefix: options.tablePrefix, clock: options.clock });
  const settings = { wal: options.wal ?? true, busyTimeoutMs: options.busyTimeoutMs ?? 5_000 };
  const ready = once(() => applyConnectionSettings(options.db as unknown as AnyDb, settings));
  return {
    ...storage,
    outbox: afterReady(storage.outbox, ready),
    inbox: { ...afterReady(storage.inbox, ready), maxConcurrentTransactions: 1 },
    migrate: async () => {
      await ready();
      return storage.migrate();
    },
  };
}
