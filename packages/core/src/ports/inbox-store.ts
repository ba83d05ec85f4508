import type { JsonValue } from '../json.js';
import type { Message } from '../message.js';
import type { StoreOverview, StoreOverviewOptions } from './overview.js';
import type { Claim, ClaimOptions, DeadKeyPolicy, InsertClaim, PurgeOptions, RecordFilter, RetryOptions } from './claim.js';

/** `received`: stored, handler to run; `processed`: handler succeeded; `dead`: handler given up. */
export type InboxStatus = 'received' | 'processed' | 'dead';

/** An inbox row as stored. */
export interface InboxRecord extends Message<JsonValue> {
  readonly status: InboxStatus;
  /** Handler attempts started so far (a claim counts as an attempt). */
  readonly attempts: number;
  /** When the row was stored (store time). */
  readonly receivedAt: Date;
  /** When the handler is due to run (again); while claimed, when the claim's lease ends. */
  readonly availableAt: Date;
  readonly lastError: string | null;
  readonly processedAt: Date | null;
  readonly leaseUntil: Date | null;
}

/**
 * What identifies an inbox message: the sender's `source` and the message
 * `id`. Two senders may use the same id (`order-42`) for different messages;
 * the inbox stores both. A {@link Message} or an {@link InboxRecord} is a key.
 *
 * @example
 * const row = await store.get({ source: 'billing', id: 'order-42' });
 */
export interface InboxKey {
  readonly source: string;
  readonly id: string;
}

/** An ordering key as the inbox scopes it: within its sender's `source`. */
export interface InboxOrderingKey {
  readonly source: string;
  readonly key: string;
}

/**
 * A {@link Claim} on an inbox row. One claim token covers a whole batch, and a
 * batch may hold `(A, x)` and `(B, x)`, so the claim names the source too: a
 * fenced update touches only the row of that source. A
 * {@link ClaimedInboxMessage} is one.
 *
 * @example
 * const [row] = await store.claimDue({ token, leaseMs: 60_000, limit: 1 });
 * await store.scheduleRetry(row, { delayMs: 1_000, error: 'handler threw' });
 */
export interface InboxClaim extends Claim, InboxKey {}

/**
 * One message for {@link InboxStore.receiveMany}, with its optional
 * insert-time claim (as `receive`'s `options.claim`).
 *
 * @example
 * await store.receiveMany(tx, [{ message, claim: { token, leaseMs: 60_000 } }, { message: other }]);
 */
export interface InboxEntry {
  readonly message: Message;
  readonly claim?: InsertClaim;
}

/** A row claimed for handling, with the token that proves ownership (it is its own {@link InboxClaim}). */
export interface ClaimedInboxMessage extends InboxRecord {
  readonly token: string;
}

export interface InboxStats {
  received: number;
  processed: number;
  dead: number;
  /** Receive time of the oldest row still waiting for its handler, or null. */
  oldestPendingAt: Date | null;
}

/**
 * Storage of the receiving side. Same conventions as {@link OutboxStore}:
 * store time, fencing by claim token, "not applied" as a result rather than
 * an error.
 *
 * A message's identity is its {@link InboxKey} `(source, id)`: deduplication,
 * fencing and `get` all use both. Every member that takes a claim takes an
 * {@link InboxClaim}; one without a `source` is a programming error (rejects
 * with `invalid_options`) rather than a match on the id alone.
 *
 * @example
 * const isNew = await store.transaction((tx) => store.receive(tx, message));
 */
export interface InboxStore<Tx> {
  /** Optional: what this store's transactions run on; as {@link OutboxStore.database}. */
  readonly database?: object;

  /**
   * Most transactions the store runs at once without one waiting for
   * another's connection (SQLite through Kysely: 1, its single connection;
   * `createPostgresStorage` with its pool: the pool's size less 2, kept for
   * receiving).
   * The inbox runs at most this many handlers at a time (fewer than its
   * `concurrency` if need be), so a `receive` waits behind at most this many
   * handler transactions. Absent: no limit of the store's own.
   */
  readonly maxConcurrentTransactions?: number;

  /** Runs `fn` in a new transaction: commit on resolve, rollback and rethrow on reject. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;

  /**
   * Inserts the message as `received` inside `tx` unless a row with the same
   * `(source, id)` exists. Resolves true when it inserted, false for a
   * duplicate (nothing is changed then, whatever the duplicate's content). The
   * same id from another source is a different message and is inserted. Safe
   * under concurrent receives of the same key: exactly one caller gets true.
   * With `claim`, the new row is written already claimed (attempts = 1).
   */
  receive(tx: Tx, message: Message, options?: { claim?: InsertClaim }): Promise<boolean>;

  /**
   * Optional: {@link receive} for several messages inside `tx`, in as few
   * statements as the store allows (SQL stores: one multi-row
   * insert-if-absent). Resolves with one boolean per entry, in order: true
   * when this call inserted it, false for a duplicate of a stored row or of
   * an earlier entry with the same `(source, id)`. Same guarantees as
   * `receive`: nothing exists for others before `tx` commits, nothing if it
   * rolls back, and under concurrent calls exactly one gets true per key.
   * Concurrent calls whose new keys overlap may be refused as a whole when
   * the database breaks a deadlock between them (InnoDB does); `tx` is then
   * rolled back and stores nothing, and the inbox receives those messages
   * again one at a time. Absent, the inbox calls `receive` once per entry in
   * one transaction.
   */
  receiveMany?(tx: Tx, entries: readonly InboxEntry[]): Promise<boolean[]>;

  /**
   * Optional, inside `tx` (before a `receive`): which of `keys` (an ordering
   * key within its sender's `source`) have a message that holds the key's
   * next turn: a `received` one (due, retrying, or claimed), or, with
   * `deadKey: 'block'`, a `dead` one. The inbox stores a message of such a
   * key unclaimed, for the worker to handle in order. One statement.
   * Absent: every keyed message is left to the worker.
   */
  blockedKeys?(tx: Tx, keys: readonly InboxOrderingKey[], options: { deadKey: DeadKeyPolicy }): Promise<InboxOrderingKey[]>;

  /**
   * Optional: {@link receiveMany} in a transaction of its own, committed
   * (durable) when it resolves, in as few round trips as the store allows
   * (SQL stores whose insert-if-absent is one statement: that statement
   * alone, run by the database as its own transaction, without BEGIN and
   * COMMIT). Same answers and guarantees as `receiveMany`; on rejection
   * nothing may be assumed stored (the inbox receives those messages again
   * one at a time, as after a failed `receiveMany`). The inbox's group commit
   * uses it for receives that share no transaction with a handler.
   *
   * @example
   * const [isNew] = await store.receiveManyCommitted([{ message, claim: { token, leaseMs: 60_000 } }]);
   */
  receiveManyCommitted?(entries: readonly InboxEntry[]): Promise<boolean[]>;

  /**
   * Like {@link OutboxStore.claimDue} for `received` rows; with `types`, only
   * rows of those types are candidates (an empty list claims nothing). A
   * keyed row is a candidate only while no row of the same `(source, key)`
   * received before it is `received` (nor `dead`, unless `deadKey` is
   * `skip`), as the outbox's claim does in creation order.
   */
  claimDue(options: ClaimOptions & { types?: readonly string[] }): Promise<ClaimedInboxMessage[]>;

  /**
   * Fenced: marks the row `(claim.source, claim.id)` `processed` inside `tx`,
   * so the handler's own writes in `tx` and this mark commit or roll back
   * together. False when the claim was lost (the caller must then roll back
   * `tx`). Also applies to a row this `tx` inserted already claimed.
   */
  markProcessed(tx: Tx, claim: InboxClaim): Promise<boolean>;

  /**
   * Optional: {@link markProcessed} for several claims inside `tx`, in as few
   * statements as the store allows (SQL stores: one fenced `UPDATE`; on
   * databases without `UPDATE … RETURNING` a locked select comes first).
   * Each row is fenced on its own `(source, id, token)`, exactly like
   * `markProcessed`: a lost claim (expired and taken over, or settled by
   * another worker) is not marked, and `(A, x)` never marks `(B, x)`.
   * Resolves with the keys it marked, each once. Fewer keys than distinct
   * claims means some claims were lost: the caller must then roll back `tx`
   * (the inbox does, and runs those messages again one by one). Absent, the
   * inbox calls `markProcessed` once per claim in the same transaction.
   *
   * @example
   * const marked = await store.markProcessedMany(tx, claims);
   * if (marked.length < claims.length) throw new Error('lease lost; roll back');
   */
  markProcessedMany?(tx: Tx, claims: readonly InboxClaim[]): Promise<InboxKey[]>;

  /** Fenced: keeps the row `received`, due after `delayMs`, records `error`, clears the lease. True if applied. */
  scheduleRetry(claim: InboxClaim, options: RetryOptions): Promise<boolean>;
  /** Fenced: marks the row `dead` with `error` as its last error, clears the lease. True if applied. */
  markDead(claim: InboxClaim, options: { error: string }): Promise<boolean>;
  /** Fenced: gives claimed rows back (lease cleared, attempts decremented, due now). Returns how many. */
  release(claims: readonly InboxClaim[]): Promise<number>;
  /** Counts by status and the oldest row waiting for its handler. */
  stats(): Promise<InboxStats>;

  /**
   * Optional (dashboards): how many rows match `filter` (`limit` and `after`
   * are ignored). Absent: `createOperations().countDead()` refuses.
   */
  count?(filter?: RecordFilter<InboxStatus>): Promise<number>;

  /**
   * Optional (dashboards): counts by type and status, and finished rows per
   * time bucket over the last `sinceMs` (store time), with queries indexes
   * serve. Absent: `createOperations().overview()` refuses.
   */
  overview?(options: StoreOverviewOptions): Promise<StoreOverview>;
  /** Rows matching `filter`, oldest received first (then by id); `source` and `ids` narrow it. */
  list(filter?: RecordFilter<InboxStatus>): Promise<InboxRecord[]>;
  /** The row with this `(source, id)`, or null. A {@link Message} is a key: `get(message)`. */
  get(key: InboxKey): Promise<InboxRecord | null>;
  /** Puts `dead` rows matching `filter` back to `received`, due now, attempts 0; `lastError` kept. Returns how many. */
  replay(filter: Omit<RecordFilter<InboxStatus>, 'status'>): Promise<number>;
  /** Deletes at most `limit` `processed` rows whose `processedAt` is older than `olderThanMs`. */
  purge(options: PurgeOptions): Promise<number>;
}
