import { MessageboxError, type Clock, type Logger } from '@messagebox/core';
import { createKyselyStorage, type MessageboxStorage } from '@messagebox/kysely';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { ClaimStatisticsOptions } from './claim-statistics.js';
import { createPostgresDialect } from './postgres-dialect.js';
import type { ListenOptions } from './postgres-listener.js';
import { connectionErrorWarning, defaultPoolConfig, guardPool } from './postgres-pool.js';
import { warnUnguardedPool } from './unguarded-pool-warning.js';
import { namedStatementsOf } from './postgres-prepared-statements.js';

/** Options both forms of {@link createPostgresStorage} share. */
export interface PostgresStorageCommonOptions {
  /** Schema of the tables, created by `migrate()` if missing. Default: the search path (usually `public`). */
  schema?: string;
  /** Prepended to the table names. Default `messagebox_`. */
  tablePrefix?: string;
  /**
   * Wake workers in other processes at once with `LISTEN`, over a dedicated
   * connection: `true` (the `connectionString` when given, else the libpq
   * environment variables), a connection string or a `pg` client config.
   * Turn it off (default) behind a pooler in transaction mode; workers then poll.
   */
  listen?: ListenOptions | false;
  /** Issue `pg_notify` in the statement that adds messages. Default true. */
  notify?: boolean;
  /**
   * Inside `outbox.transaction()`, write the messages `add` is given with the
   * COMMIT, in its round trip, instead of at once: a transaction with `add`
   * then costs one round trip more than one without (BEGIN, your statements,
   * `INSERT …; COMMIT`), not two. The visible difference: a SELECT of the
   * outbox table inside that transaction does not see them yet. Default true;
   * `false` inserts at `add`. `pgTransaction` and transactions you open
   * yourself always insert at once.
   */
  writeAtCommit?: boolean;
  /** Replaces the database clock (tests of backoff). */
  clock?: Clock;
  /**
   * Run the store's hot statements (add, markSent, receive, markProcessed;
   * not the claims) as named prepared statements, so Postgres parses and
   * plans each once per connection. Needs the pool: the storage's own
   * (`connectionString`) or the `pool` you pass beside `db`. Default true;
   * turn it off behind a pooler in transaction mode that does not keep
   * prepared statements (PgBouncer before 1.21, or without
   * `max_prepared_statements`).
   */
  preparedStatements?: boolean;
  /**
   * `ANALYZE` a table in the background (at most once a minute) when a claim
   * on it came back full and slow: without statistics, after a burst that
   * outran autovacuum or on a new table, Postgres sorts the whole backlog on
   * every claim instead of walking the due index. Default
   * `{ slowClaimMs: 10, minIntervalMs: 60_000 }`; `false` leaves it to autovacuum.
   */
  claimStatistics?: ClaimStatisticsOptions | false;
  /** Told about each connection error the pool guard catches (see {@link guardPool}). Default: a warning on `logger`. */
  onConnectionError?: (error: Error) => void;
  /**
   * Where the storage's own warnings go: a pool it cannot guard, and
   * connection errors when `onConnectionError` is not given. Default: the
   * console logger. Pass the one your outbox and inbox log to.
   */
  logger?: Logger;
}

/** {@link createPostgresStorage} on your own Kysely instance. */
export interface PostgresStorageOnDbOptions<DB> extends PostgresStorageCommonOptions {
  /** Your Kysely instance on a `PostgresDialect` (pg). */
  db: Kysely<DB>;
  /**
   * The `pg.Pool` under `db`. Pass it: the storage then guards it, so a
   * connection Postgres terminates fails the query that uses it instead of
   * crashing the process (see {@link guardPool}); Kysely does not let the
   * storage reach the pool through `db`. `false`: you guard it yourself
   * (`guardPool(pool)`). Left out, the storage warns once per process that
   * the pool is unguarded.
   */
  pool?: pg.Pool | false;
  connectionString?: never;
}

/** {@link createPostgresStorage} with a pool of its own. */
export interface PostgresStorageOwnPoolOptions extends PostgresStorageCommonOptions {
  /** Where the database is; the storage opens a guarded pool on it and closes it in `destroy()`. */
  connectionString: string;
  /** Pool settings over the defaults (`max` 10, `keepAlive`, `connectionTimeoutMillis` 10 s, `idleTimeoutMillis` 30 s). */
  poolConfig?: Omit<pg.PoolConfig, 'connectionString'>;
  db?: never;
  pool?: never;
}

/** Options of {@link createPostgresStorage}: your `db` (and its `pool`), or a `connectionString`. */
export type PostgresStorageOptions<DB> = PostgresStorageOnDbOptions<DB> | PostgresStorageOwnPoolOptions;

/** The stores, with the Kysely instance they use. */
export interface PostgresStorage<DB> extends MessageboxStorage<Transaction<DB>> {
  /** The Kysely instance: yours, or the one on the storage's own pool (use it for your own queries). */
  readonly db: Kysely<DB>;
  /** Closes the pool the storage opened (`connectionString`); with your own `db`, does nothing: it is yours to close. */
  destroy(): Promise<void>;
}

/**
 * Outbox and inbox stores in your PostgreSQL database.
 *
 * @example
 * // a pool of its own, guarded and closed by destroy()
 * const storage = createPostgresStorage<DB>({ connectionString, listen: true });
 * await storage.migrate();
 * const outbox = createOutbox({ store: storage.outbox, source: 'vault' });
 * // …
 * await storage.destroy();
 *
 * @example
 * // your Kysely instance: pass its pool too, so the storage can guard it
 * const pool = new pg.Pool({ connectionString });
 * const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
 * const storage = createPostgresStorage({ db, pool, listen: connectionString });
 */
export function createPostgresStorage<DB>(options: PostgresStorageOptions<DB>): PostgresStorage<DB> {
  const guard = { onError: options.onConnectionError ?? (options.logger ? connectionErrorWarning(options.logger) : undefined) };
  let db: Kysely<DB>;
  let destroy: () => Promise<void>;
  let listen = options.listen;
  let pool: pg.Pool | undefined;
  if (options.connectionString !== undefined) {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new MessageboxError('invalid_options', '[messagebox] createPostgresStorage: connectionString must be a non-empty string');
    }
    pool = guardPool(new pg.Pool({ ...defaultPoolConfig, ...options.poolConfig, connectionString: options.connectionString }), guard);
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    destroy = () => db.destroy();
    if (listen === true) listen = options.connectionString;
  } else if (options.db) {
    const given: unknown = options.pool;
    if (given === undefined) warnUnguardedPool(options.logger);
    else if (given !== false) {
      if (typeof (given as pg.Pool | null)?.on !== 'function' || typeof (given as pg.Pool).connect !== 'function') {
        throw new MessageboxError('invalid_options', 'createPostgresStorage: `pool` must be the pg.Pool under `db`, or false when you guard it yourself');
      }
      pool = guardPool(given as pg.Pool, guard);
    }
    db = options.db;
    destroy = async () => undefined;
  } else {
    throw new MessageboxError('invalid_options', '[messagebox] createPostgresStorage needs `db` (your Kysely instance) or `connectionString`');
  }
  const storage = createKyselyStorage({
    db,
    dialect: createPostgresDialect({ listen, notify: options.notify, claimStatistics: options.claimStatistics, writeAtCommit: options.writeAtCommit, ...(pool && options.preparedStatements !== false ? { namedStatements: namedStatementsOf(pool) } : {}) }),
    schema: options.schema,
    tablePrefix: options.tablePrefix,
    clock: options.clock,
  });
  if (!pool) return { ...storage, db, destroy };
  return { ...storage, inbox: { ...storage.inbox, maxConcurrentTransactions: handlerTransactionsOf(pool) }, db, destroy };
}

/** Connections of the pool the inbox leaves to receiving (its group commit), claims and settling when it runs handlers. */
const KEPT_FOR_RECEIVING = 2;

/**
 * How many handler transactions the inbox runs at once on `pool`: its size
 * less {@link KEPT_FOR_RECEIVING}. More would only wait in the pool's queue,
 * ahead of the receives that acknowledge senders (measured: 32 handlers on
 * 10 connections acknowledged ~25 % fewer messages a second than 8).
 */
function handlerTransactionsOf(pool: pg.Pool): number {
  const max = Number((pool as { options?: { max?: unknown } }).options?.max);
  return Math.max(1, (max > 0 ? max : defaultPoolConfig.max!) - KEPT_FOR_RECEIVING);
}
