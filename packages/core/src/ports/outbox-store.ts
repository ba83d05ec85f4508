import type { JsonValue } from '../json.js';
import type { Message } from '../message.js';
import type { StoreOverview, StoreOverviewOptions } from './overview.js';
import type { Claim, ClaimOptions, DeadKeyPolicy, InsertClaim, PurgeOptions, RecordFilter, RetryOptions, Unsubscribe } from './claim.js';

/** `pending`: to be sent (possibly claimed by a worker right now); `sent`: delivered; `dead`: given up. */
export type OutboxStatus = 'pending' | 'sent' | 'dead';

/** An outbox row as stored. */
export interface OutboxRecord extends Message<JsonValue> {
  readonly status: OutboxStatus;
  /** Delivery attempts started so far (a claim counts as an attempt). */
  readonly attempts: number;
  /** When the row is due for its next attempt (while claimed: when the claim's lease ends). */
  readonly availableAt: Date;
  /** Description of the last failure, or null. */
  readonly lastError: string | null;
  /** When it was sent, or null. */
  readonly sentAt: Date | null;
  /** When the current claim expires, or null when not claimed. */
  readonly leaseUntil: Date | null;
}

/** A row claimed for delivery, with the token that proves ownership. */
export interface ClaimedOutboxMessage extends OutboxRecord {
  readonly token: string;
}

/** Counts for `status` and monitoring. */
export interface OutboxStats {
  pending: number;
  sent: number;
  dead: number;
  /** Creation time of the oldest pending row, or null when none. */
  oldestPendingAt: Date | null;
}

/**
 * Storage of the sending side. Implementations: `@messagebox/sqlite`,
 * `@messagebox/postgres`, `@messagebox/mysql`, and the in-memory store in
 * core. `@messagebox/testkit` checks every statement below.
 *
 * Times are the store's own (database time for SQL stores) unless the store
 * was given a clock. All methods reject only when the store itself fails
 * (connection lost, constraint the caller broke); "not found" and "fenced
 * out" are normal results, never errors.
 *
 * @typeParam Tx the caller's transaction handle (a Kysely `Transaction` for SQL stores).
 *
 * @example
 * const store = createSqliteStorage({ db }).outbox;
 * await store.transaction(async (tx) => {
 *   await tx.insertInto('payment').values(row).execute();
 *   await store.add(tx, [message]);
 * });
 */
export interface OutboxStore<Tx> {
  /**
   * Optional: what this store's transactions run on (SQL stores: the Kysely
   * instance they were given; memory stores: their `MemoryDatabase`). Two
   * stores with the same `database` can write in one transaction:
   * `createInbox({ outbox })` refuses an outbox whose store names another
   * database than the inbox store's. Absent: not checked.
   */
  readonly database?: object;

  /**
   * Runs `fn` in a new database transaction: commits when it resolves,
   * rolls back and rethrows when it rejects.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;

  /**
   * Writes messages as `pending` inside the caller's transaction `tx`; they
   * exist for others only once `tx` commits, and never if it rolls back.
   * With `claim`, the rows are written already claimed by `claim.token`
   * (attempts = 1, lease from the insert) so the writer can send them right
   * after commit without another round trip; the ids in `unclaimed` are
   * written unclaimed all the same. Rejects on a duplicate id.
   * A store may write unkeyed rows added in its own {@link transaction}
   * with that transaction's COMMIT instead (Postgres: one round trip fewer):
   * they are not visible inside `tx`, their lease starts at COMMIT, and a
   * duplicate id rejects the transaction (`store_failed`), nothing committed.
   * SQL stores that can wake other processes (Postgres `NOTIFY`) do so here,
   * inside `tx`, so the signal is delivered at commit.
   *
   * A message's `key` is stored with it, and so is its place in creation
   * order: messages are created in the order of `messages`, and after every
   * message an earlier `add` (committed, or earlier in `tx`) wrote.
   */
  add(tx: Tx, messages: readonly Message[], options?: { claim?: InsertClaim; unclaimed?: ReadonlySet<string> }): Promise<void>;

  /**
   * Optional, inside the caller's transaction `tx` (before an `add`): which
   * of `keys` have a message that holds the key's next turn: a `pending` one
   * (due, due later, or claimed), or, with `deadKey: 'block'`, a `dead` one.
   * The outbox writes a message of such a key unclaimed, for the worker to
   * send in order, instead of sending it right after commit. One statement.
   * Absent: every keyed message is left to the worker.
   */
  blockedKeys?(tx: Tx, keys: readonly string[], options: { deadKey: DeadKeyPolicy }): Promise<string[]>;

  /**
   * Atomically claims up to `limit` pending rows that are due
   * (`availableAt <= now`) and not under a live lease (no lease, or lease
   * expired), oldest due first where the database allows: sets their token,
   * `leaseUntil = now + leaseMs`, `availableAt = leaseUntil` (a leased row is due again when its lease ends, so it stays out of the range later claims scan) and `attempts = attempts + 1`, and returns
   * them, oldest first (by `createdAt`; the inbox by `receivedAt`). Two concurrent callers never receive the same row while its lease
   * is live. With `ids`, only those rows are candidates; with `types`, only
   * rows of those types (an empty list claims nothing), so a process never
   * claims messages it has no transport for (e.g. during a rolling deploy).
   * A keyed row is a candidate only while no earlier row of its key (in
   * creation order) is `pending`, nor `dead` unless `deadKey` is `skip`: at
   * most one row per key is ever claimed, and two concurrent callers never
   * hold two rows of one key. One statement where the database allows.
   */
  claimDue(options: ClaimOptions & { ids?: readonly string[]; types?: readonly string[] }): Promise<ClaimedOutboxMessage[]>;

  /**
   * Marks claimed rows `sent` (sentAt = now, lease cleared) where the row is
   * still pending and still carries the claim's token. Returns the ids that
   * were marked; a fenced-out claim is simply absent. One round trip.
   */
  markSent(claims: readonly Claim[]): Promise<string[]>;

  /** Fenced: keeps the row pending, due after `delayMs`, records `error`, clears the lease. True if applied. */
  scheduleRetry(claim: Claim, options: RetryOptions): Promise<boolean>;

  /** Fenced: marks the row `dead` with `error` as its last error, clears the lease. True if applied. */
  markDead(claim: Claim, options: { error: string }): Promise<boolean>;

  /**
   * Fenced: gives claimed rows back untouched by an attempt (lease cleared,
   * `attempts` decremented, due now), for a graceful shutdown. Returns how many.
   */
  release(claims: readonly Claim[]): Promise<number>;

  /** Counts by status and the oldest pending row. */
  stats(): Promise<OutboxStats>;

  /**
   * Optional (dashboards): how many rows match `filter` (`limit` and `after`
   * are ignored). Absent: `createOperations().countDead()` refuses.
   */
  count?(filter?: RecordFilter<OutboxStatus>): Promise<number>;

  /**
   * Optional (dashboards): counts by type and status, and finished rows per
   * time bucket over the last `sinceMs` (store time), with queries indexes
   * serve. Absent: `createOperations().overview()` refuses.
   */
  overview?(options: StoreOverviewOptions): Promise<StoreOverview>;

  /** Rows matching `filter`, oldest first. */
  list(filter?: RecordFilter<OutboxStatus>): Promise<OutboxRecord[]>;

  /** One row, or null when there is none with that id. */
  get(id: string): Promise<OutboxRecord | null>;

  /**
   * Puts `dead` rows matching `filter` (status is forced to `dead`) back to
   * `pending`, due now, attempts reset to 0, lease cleared; `lastError` is
   * kept. Returns how many.
   */
  replay(filter: Omit<RecordFilter<OutboxStatus>, 'status'>): Promise<number>;

  /** Deletes at most `limit` `sent` rows whose `sentAt` is older than `olderThanMs`. Returns how many. */
  purge(options: PurgeOptions): Promise<number>;

  /**
   * Optional: calls `onWake` when another process may have added messages
   * (Postgres `LISTEN`). Reconnects by itself; resolves once listening.
   */
  watch?(onWake: () => void): Promise<Unsubscribe>;

  /**
   * Optional (`messagebox status`): writes the state of one destination as
   * seen by one outbox worker, replacing the row of the same
   * `(destination, worker)`. The outbox calls it only when a circuit breaker
   * changes state or a busy answer pauses a destination.
   */
  saveDestinationState?(record: DestinationRecord): Promise<void>;
  /** Optional: every row {@link saveDestinationState} wrote, by destination then worker. */
  listDestinationStates?(): Promise<DestinationRecord[]>;
  /** Optional: deletes the rows of `worker` (its outbox stopped). Returns how many. */
  clearDestinationStates?(worker: string): Promise<number>;
}

/**
 * A destination's flow state as one outbox worker last wrote it (store
 * members `saveDestinationState`, `listDestinationStates`).
 *
 * @example
 * await store.saveDestinationState?.({ destination: 'billing', worker: 'shop@4242', breaker: 'open', consecutiveFailures: 10, openUntil, pausedUntil: null, updatedAt: new Date() });
 */
export interface DestinationRecord {
  /** The transport's name (with `#2`… when several of one outbox share it). */
  destination: string;
  /** Which outbox process wrote it (`outbox.worker`). */
  worker: string;
  breaker: 'closed' | 'open' | 'half-open' | 'disabled';
  consecutiveFailures: number;
  /** While open: when the next probe goes. */
  openUntil: Date | null;
  /** While a busy answer pauses it: when sending resumes. */
  pausedUntil: Date | null;
  /** When the worker wrote it (the worker's clock). */
  updatedAt: Date;
}
