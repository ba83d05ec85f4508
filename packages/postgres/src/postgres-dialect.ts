import { insertOnConflictDoNothing, updateKeysWithReturning, updateWithReturning, type AnyDb, type MessageboxDialect } from '@messagebox/kysely';
import { sql } from 'kysely';
import { claimStatisticsKeeper, type ClaimStatisticsOptions } from './claim-statistics.js';
import { postgresClaim } from './postgres-claim.js';
import { insertManyWithArrays } from './postgres-insert-many.js';
import { postgresCreateMigrationsTable, postgresCreateTables, postgresDestinationStatesTable, postgresInboxIdentityMigration, postgresOperationsIndexes } from './postgres-ddl.js';
import { postgresKeyOrderMigration } from './postgres-key-order-ddl.js';
import { listenForWakeUps, type ListenOptions } from './postgres-listener.js';
import { insertOutboxRowsAndNotify, outboxChannel } from './postgres-notify.js';
import { postgresTransactionWithCommitStatements } from './postgres-commit-statements.js';
import type { NamedStatements } from './postgres-prepared-statements.js';

/** Options of {@link createPostgresDialect}. */
export interface PostgresDialectOptions {
  /** Issue `NOTIFY` when messages are added (in the INSERT statement itself; not for rows inserted already claimed). Default true. */
  notify?: boolean;
  /**
   * In the store's own transactions (`outbox.transaction()`), write the rows
   * `add` is given at COMMIT, in the COMMIT's round trip, instead of at once
   * (one round trip fewer; a SELECT of the outbox inside the transaction does
   * not see them). Default true. `pgTransaction` and transactions you open
   * yourself always insert at once.
   */
  writeAtCommit?: boolean;
  /** Connection for `LISTEN` (enables `outbox.watch`). Default: off, workers poll. */
  listen?: ListenOptions | false;
  /**
   * Run the store's hot statements as named prepared statements on this
   * registry's pool (see `namedStatementsOf(pool)`). Default: none, every
   * statement is parsed and planned per call. `createPostgresStorage` passes
   * one unless `preparedStatements: false`.
   */
  namedStatements?: NamedStatements;
  /**
   * Refresh the planner's statistics of a table (`ANALYZE`, in the
   * background, at most once a minute) when a claim on it came back full and
   * slow, or a mark of several claimed rows by key (the outbox's sent mark,
   * an inbox batch's processed mark) was slow: the sign of a plan that
   * sorts or walks the whole backlog, or every row of the sender, because
   * the table was never analyzed or a burst outran autovacuum. Default on
   * (`{ slowClaimMs: 10, minIntervalMs: 60_000 }`); `false` leaves statistics
   * to autovacuum.
   */
  claimStatistics?: ClaimStatisticsOptions | false;
}

/**
 * PostgreSQL: database time from `statement_timestamp()` (stable within a statement, so the due-index range applies; per statement, not per transaction), claims with
 * `FOR UPDATE SKIP LOCKED` in one statement, `NOTIFY` folded into the outbox
 * INSERT (inside the sending transaction) and `LISTEN` on a dedicated connection.
 *
 * @example
 * const storage = createKyselyStorage({ db, dialect: createPostgresDialect({ listen: process.env.DATABASE_URL }) });
 */
export function createPostgresDialect(options: PostgresDialectOptions = {}): MessageboxDialect {
  const listen = options.listen;
  const named = options.namedStatements;
  const statistics = options.claimStatistics === false ? undefined : claimStatisticsKeeper(options.claimStatistics);
  /** Tells the pool's registry about a hot statement text, so it runs named. */
  const announce = named && ((statement: { sql: string; key: string; parameters: number }) => named.add(statement));
  const dialect: MessageboxDialect = {
    name: 'postgres',
    nowMs: () => sql<number>`(extract(epoch from statement_timestamp()) * 1000)::bigint`,
    contains: (column, text) => sql<boolean>`strpos(${sql.ref(column)}, ${text}) > 0`,
    createTables: postgresCreateTables,
    createMigrationsTable: postgresCreateMigrationsTable,
    inboxIdentityMigration: postgresInboxIdentityMigration,
    operationsIndexes: postgresOperationsIndexes,
    destinationStatesTable: postgresDestinationStatesTable,
    keyOrderMigration: postgresKeyOrderMigration,
    claim: postgresClaim(statistics),
    ...(statistics ? { observeKeyedUpdate: statistics.observeKeyedUpdate } : {}),
    updateReturningIds: updateWithReturning,
    updateReturningKeys: updateKeysWithReturning,
    insertIfAbsent: insertOnConflictDoNothing,
    insertManyIfAbsent: insertManyWithArrays(announce),
    oneStatementInsertMany: true,
    withMigrationLock: (db: AnyDb, fn) =>
      db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('messagebox.migrate'))`.execute(trx);
        return fn(trx);
      }),
  };
  const notify = options.notify !== false;
  dialect.insertOutboxRows = notify ? insertOutboxRowsAndNotify : (tx, tables, rows, o) => insertOutboxRowsAndNotify(tx, tables, rows, { ...o, wake: false });
  if (options.writeAtCommit !== false) dialect.transactionWithCommitStatements = postgresTransactionWithCommitStatements;
  if (announce) dialect.reusedStatement = announce;
  if (listen) dialect.watch = (tables, onWake) => listenForWakeUps(listen, outboxChannel(tables), onWake);
  return dialect;
}
