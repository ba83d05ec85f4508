import type { Unsubscribe } from '@messagebox/core';
import type { Expression, ExpressionBuilder, Kysely, RawBuilder, SelectQueryBuilder, SqlBool, Transaction, UpdateObject } from 'kysely';
import type { Reuse } from './compiled-statements.js';
import type { MessageboxTables } from './tables.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTx = Transaction<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySelect = SelectQueryBuilder<any, any, { id: string }>;

/**
 * What the shared store asks a dialect to claim. A row's key may be more than
 * `id` (the inbox's is `(source, id)`): match claimed rows with `keyIn`, never
 * with `id IN (…)`.
 *
 * @example
 * db.updateTable(claim.table).set(claim.set).where(claim.keyIn(claim.candidates(db).limit(claim.limit))).returningAll()
 */
export interface ClaimStatement {
  /** Qualified table name (`schema.table` or `table`). */
  table: string;
  /** Due, unleased, filtered candidates (selecting the key columns), without order, limit or lock. */
  candidates(db: AnyDb): AnySelect;
  /**
   * A `where` condition: the row's key is among `candidates`, given as a
   * subquery of {@link candidates} or as the rows it returned.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  keyIn(candidates: AnySelect | readonly Record<string, unknown>[]): (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>;
  /** Columns to set on the claimed rows (token, lease, attempts + 1). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  set: UpdateObject<any, any>;
  limit: number;
  /** Present when the store lets the claim's statement be compiled once per shape (see {@link executeRequest}). */
  reuse?: Reuse<ClaimStatement>;
}

/**
 * A fenced update whose caller needs to know which rows it changed. `where`
 * must be applied to the rows being updated (never through an `id IN (SELECT
 * …)` subquery): under concurrency the database re-checks it against the row
 * version it locks, which is what fencing relies on.
 */
export interface UpdateReturningIds {
  table: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  where: (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  set: UpdateObject<any, any>;
  /** Present when the store lets the update be compiled once per shape (see {@link executeRequest}). */
  reuse?: Reuse<UpdateReturningIds>;
}

/** A fenced update run inside the caller's transaction, whose caller needs the keys (`keys` columns) of the rows it changed; `where` as in {@link UpdateReturningIds}. */
export interface UpdateReturningKeys extends Omit<UpdateReturningIds, 'reuse'> {
  keys: readonly string[];
  /** Present when the store lets the update be compiled once per shape (see {@link executeRequest}). */
  reuse?: Reuse<UpdateReturningKeys>;
  /** A `where` condition: the row's key is one of `rows` (as selected by `keys`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  keyIn(rows: readonly Record<string, unknown>[]): (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>;
}

/** What {@link MessageboxDialect.observeKeyedUpdate} is told of one keyed update of claimed rows. */
export interface KeyedUpdateTiming {
  /** Keys it was given. */
  keys: number;
  /** Rows it changed. */
  rows: number;
  ms: number;
}

/** A multi-row insert-if-absent: `rows` have distinct keys (`key` columns), in key order. */
export interface InsertManyIfAbsent {
  table: string;
  rows: readonly Record<string, unknown>[];
  key: readonly string[];
  /** A `where` condition: the row's key is one of `keys`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  keyIn(keys: readonly Record<string, unknown>[]): (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>;
  /** Present when the store lets the insert be compiled once per shape (see {@link executeRequest}); its input is `rows`. */
  reuse?: Reuse<InsertManyIfAbsent>;
}

/**
 * Queues a statement to run with COMMIT (see
 * `MessageboxDialect.transactionWithCommitStatements`): complete SQL text,
 * every value in it written as a literal the dialect escaped.
 */
export type AtCommit = (statement: string) => void;

/** Options of `MessageboxDialect.insertOutboxRows`. */
export interface OutboxInsertOptions {
  /** Also signal waiting workers (false for rows inserted already claimed). */
  wake: boolean;
  /** Lets the INSERT be compiled once per shape (its input is `rows`; see {@link executeRequest}). */
  reuse?: Reuse<Record<string, unknown>[]>;
  /** When given, the dialect may queue the INSERT to run with COMMIT instead of now, and then resolves true. */
  atCommit?: AtCommit;
}

/**
 * Everything that differs between SQL databases; the stores in this package
 * are written once on top of it. Dialect packages (`@messagebox/postgres`,
 * `@messagebox/mysql`, `@messagebox/sqlite`) implement it, one file per role.
 *
 * @example
 * const storage = createKyselyStorage({ db, dialect: sqliteDialect, tablePrefix: 'app_' });
 */
export interface MessageboxDialect {
  readonly name: string;

  /** The database's current time in epoch milliseconds, as a BIGINT expression. */
  nowMs(): RawBuilder<number>;

  /** Case-sensitive "`column` contains `text`". */
  contains(column: string, text: string): Expression<SqlBool>;

  /** DDL creating the tables and indexes, idempotent (`IF NOT EXISTS`). */
  createTables(tables: MessageboxTables): string[];

  /** DDL creating the migrations bookkeeping table (and its schema, if any), idempotent. */
  createMigrationsTable(tables: MessageboxTables): string[];

  /**
   * DDL of migration `0002_inbox_identity_source_id`: turns an inbox keyed by
   * `id` (as `0001` created it before) into one keyed by `(source, id)`,
   * keeping every row. Must also succeed on a table `createTables` made with
   * today's key. Absent: the migration does nothing (a dialect of your own
   * whose `createTables` keys the inbox by `(source, id)` needs none).
   */
  inboxIdentityMigration?(tables: MessageboxTables): string[];

  /** Atomically claims rows (lock, update, return them) in as few round trips as the database allows. */
  claim(db: AnyDb, statement: ClaimStatement): Promise<Record<string, unknown>[]>;

  /**
   * Optional: told of each update of claimed rows by their keys (the
   * outbox's sent mark, an inbox batch's processed mark), after it ran: how many keys
   * it was given, how many rows it changed and how long it took. `db` is the
   * store's own instance (not the transaction), for work of the dialect's
   * own: Postgres refreshes the table's planner statistics when such an
   * update was slow (see its `claimStatistics`).
   */
  observeKeyedUpdate?(db: AnyDb, table: string, update: KeyedUpdateTiming): void;

  /** Runs a fenced update and returns the ids of the rows it changed. */
  updateReturningIds(db: AnyDb, update: UpdateReturningIds): Promise<string[]>;

  /**
   * Optional: runs a fenced update inside the caller's transaction `tx` and
   * returns the `keys` columns of the rows it changed, in one statement
   * (`UPDATE … RETURNING`). The inbox's `markProcessedMany` uses it. Default
   * ({@link updateKeysWithLockedSelect}): select the matching rows `FOR
   * UPDATE`, then update them: two statements, for databases without
   * `RETURNING` on `UPDATE` (MySQL, MariaDB).
   */
  updateReturningKeys?(tx: AnyDb, update: UpdateReturningKeys): Promise<Record<string, unknown>[]>;

  /**
   * Inserts `row` unless a row with its primary key (the inbox: `(source, id)`) exists; true when inserted. Safe under concurrency.
   * `reuse`, when given, lets the insert be compiled once per shape (its input is `row`; see {@link executeRequest}).
   */
  insertIfAbsent(tx: AnyDb, table: string, row: Record<string, unknown>, reuse?: Reuse<Record<string, unknown>>): Promise<boolean>;

  /**
   * Optional: inserts every row of `insert` whose key is absent, in one
   * statement where the database allows, and returns the `key` columns of
   * the rows it inserted. Safe under concurrency like `insertIfAbsent`.
   * Default: `insertIfAbsent` once per row.
   */
  insertManyIfAbsent?(tx: AnyDb, insert: InsertManyIfAbsent): Promise<Record<string, unknown>[]>;

  /**
   * True when {@link insertManyIfAbsent} is one statement (Postgres, SQLite:
   * `INSERT … ON CONFLICT DO NOTHING RETURNING`): a receive that shares its
   * transaction with nothing else then runs it alone, as its own
   * transaction (one round trip instead of BEGIN, INSERT, COMMIT). Default
   * false (MySQL's takes a read and an insert, in the caller's transaction).
   */
  readonly oneStatementInsertMany?: boolean;

  /** Runs `fn` holding a lock that keeps concurrent `migrate()` calls apart. Default: none. */
  withMigrationLock?<T>(db: AnyDb, fn: (db: AnyDb) => Promise<T>): Promise<T>;

  /**
   * Inserts outbox rows inside the caller's transaction, in as few round
   * trips as the database allows; with `wake`, also signals waiting workers
   * (Postgres folds `pg_notify` into the INSERT: one statement). `wake` is
   * false for rows inserted already claimed, which this process sends itself.
   * Default: a plain multi-row INSERT, then {@link afterAdd} when `wake`.
   * `options.reuse`, when given, lets the INSERT be compiled once per shape
   * (its input is `rows`; see {@link executeRequest}). With `options.atCommit`
   * (the dialect has {@link transactionWithCommitStatements}), it may hand
   * the statement to `atCommit` instead of running it, and then resolves true.
   */
  insertOutboxRows?(tx: AnyDb, tables: MessageboxTables, rows: Record<string, unknown>[], options: OutboxInsertOptions): Promise<boolean | void>;

  /**
   * Called inside the caller's transaction after an outbox `add` of rows that
   * workers should pick up (not after rows inserted already claimed), when the
   * dialect has no {@link insertOutboxRows}.
   */
  afterAdd?(tx: AnyDb, tables: MessageboxTables): Promise<void>;

  /**
   * Optional: told once about each statement text that the store compiled
   * once and runs many times (its hot statements, see `StatementCache`), so
   * the dialect can have its driver prepare it once per connection (Postgres:
   * a named prepared statement, parsed and planned once). The statement still
   * runs as an ordinary `CompiledQuery` with this text. `key` names the
   * operation (`outbox.add`, `postgres.claim…`); `parameters` is how many
   * values it carries. Default: nothing (the driver prepares per call).
   *
   * @example
   * reusedStatement: ({ sql, key }) => { if (!key.includes('claim')) namedStatements.add(sql); }
   */
  reusedStatement?(statement: { sql: string; key: string; parameters: number }): void;

  /** Wake-up across processes (Postgres: `LISTEN`); absent when the database has none. */
  watch?(tables: MessageboxTables, onWake: () => void): Promise<Unsubscribe>;

  /**
   * Runs `fn` in a new write transaction: commit on resolve, rollback and
   * rethrow on reject. The stores' `transaction` uses it. Default:
   * `db.transaction().execute(fn)` (SQLite: `BEGIN IMMEDIATE`, so the write
   * lock is taken under the busy timeout before the first statement).
   */
  transaction?<T>(db: AnyDb, fn: (tx: AnyTx) => Promise<T>): Promise<T>;

  /**
   * Optional: runs `fn` in a new write transaction, like {@link transaction},
   * and hands it `atCommit`: statements given to it are sent together with
   * COMMIT, in the same round trip (Postgres: the simple query protocol runs
   * `INSERT …; COMMIT` as one message). When one of them fails, nothing
   * commits and the transaction rejects (`MessageboxError` `store_failed`,
   * the database's error as `cause`). The outbox store's `transaction()`
   * uses it to write the rows `add` is given at COMMIT (see
   * {@link insertOutboxRows}); `atCommit` undefined: not in this one, rows
   * are inserted at `add`. Default: none, rows are inserted at `add`.
   */
  transactionWithCommitStatements?<T>(db: AnyDb, fn: (tx: AnyTx, atCommit: AtCommit | undefined) => Promise<T>): Promise<T>;

  /**
   * DDL of migration `0003_mysql_claim_order`: an index that yields due rows
   * in `available_at, id` order, for dialects whose claim needs one beyond
   * what {@link createTables} made. Default: none (the migration is recorded
   * and changes nothing).
   */
  claimOrderIndexes?(tables: MessageboxTables): string[];

  /**
   * DDL of migration `0004_operations_indexes`: indexes for the operations'
   * overview (counts by `status, type`) and dead-letter pages (dead rows in
   * list order). Default: none (the migration is recorded and changes nothing).
   */
  operationsIndexes?(tables: MessageboxTables): string[];
  /**
   * DDL of migration `0006_destination_states`: the table `tables.destinations`
   * with columns `destination`, `worker` (text, the primary key together),
   * `breaker` (text), `consecutive_failures` (integer), `open_until`,
   * `paused_until` (epoch ms, nullable) and `updated_at` (epoch ms), where
   * outbox workers record their circuit breakers for `messagebox status`.
   * Default: none (the store's destination-state members then fail, and the
   * outbox logs that once).
   */
  destinationStatesTable?(tables: MessageboxTables): string[];

  /**
   * DDL of migration `0005_ordering_keys`, for per-key ordering: on both
   * tables, an `order_key` column (nullable, up to 255 ASCII characters), a
   * column that orders rows in insert order ({@link orderSequenceColumn}:
   * increasing with every insert, filled by the database), and an index that
   * finds, for a key (the inbox: `source` then key), its rows that are
   * waiting or dead in that order, holding no unkeyed row where the database
   * has partial indexes. A dialect without it has no ordering: its stores
   * refuse a message with a key (`invalid_options`) and claim without the
   * per-key condition. Default: none.
   */
  keyOrderMigration?(tables: MessageboxTables): string[];

  /**
   * The column of {@link keyOrderMigration} that orders rows in insert order.
   * Default `order_seq`. SQLite: `rowid`, which every row has already.
   */
  readonly orderSequenceColumn?: string;

  /**
   * True when a migration statement failed only because its change is there
   * already, for DDL the database cannot write idempotently (SQLite has no
   * `ADD COLUMN IF NOT EXISTS`: "duplicate column name"); `migrate()` then
   * goes on with the next statement. Default: no error is.
   */
  isAlreadyApplied?(error: unknown): boolean;
}
