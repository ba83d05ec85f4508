import type { JsonValue } from '../json.js';
import type { Message } from '../message.js';
import type { Claim, ClaimOptions, InsertClaim, PurgeOptions, RecordFilter, RetryOptions } from './claim.js';

/** `received`: stored, handler to run; `processed`: handler succeeded; `dead`: handler given up. */
export type InboxStatus = 'received' | 'processed' | 'dead';

/** An inbox row as stored. */
export interface InboxRecord extends Message<JsonValue> {
  readonly status: InboxStatus;
  /** Handler attempts started so far (a claim counts as an attempt). */
  readonly attempts: number;
  /** When the row was stored (store time). */
  readonly receivedAt: Date;
  /** When the handler is due to run (again). */
  readonly availableAt: Date;
  readonly lastError: string | null;
  readonly processedAt: Date | null;
  readonly leaseUntil: Date | null;
}

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
 * @example
 * const isNew = await store.transaction((tx) => store.receive(tx, message));
 */
export interface InboxStore<Tx> {
  /**
   * Most transactions the store runs at once without one waiting for
   * another's connection (SQLite through Kysely: 1, its single connection).
   * The inbox runs at most this many handlers at a time (fewer than its
   * `concurrency` if need be), so a `receive` waits behind at most this many
   * handler transactions. Absent: no limit of the store's own.
   */
  readonly maxConcurrentTransactions?: number;

  /** Runs `fn` in a new transaction: commit on resolve, rollback and rethrow on reject. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;

  /**
   * Inserts the message as `received` inside `tx` unless a row with its id
   * exists. Resolves true when it inserted, false for a duplicate (nothing is
   * changed then, whatever the duplicate's content). Safe under concurrent
   * receives of the same id: exactly one caller gets true. With `claim`, the
   * new row is written already claimed (attempts = 1).
   */
  receive(tx: Tx, message: Message, options?: { claim?: InsertClaim }): Promise<boolean>;

  /**
   * Like {@link OutboxStore.claimDue} for `received` rows; with `types`, only
   * rows of those types are candidates (an empty list claims nothing).
   */
  claimDue(options: ClaimOptions & { types?: readonly string[] }): Promise<ClaimedInboxMessage[]>;

  /**
   * Fenced: marks the row `processed` inside `tx`, so the handler's own writes
   * in `tx` and this mark commit or roll back together. False when the claim
   * was lost (the caller must then roll back `tx`).
   */
  markProcessed(tx: Tx, claim: Claim): Promise<boolean>;

  scheduleRetry(claim: Claim, options: RetryOptions): Promise<boolean>;
  markDead(claim: Claim, options: { error: string }): Promise<boolean>;
  release(claims: readonly Claim[]): Promise<number>;
  stats(): Promise<InboxStats>;
  list(filter?: RecordFilter<InboxStatus>): Promise<InboxRecord[]>;
  get(id: string): Promise<InboxRecord | null>;
  /** Puts `dead` rows matching `filter` back to `received`, due now, attempts 0. */
  replay(filter: Omit<RecordFilter<InboxStatus>, 'status'>): Promise<number>;
  /** Deletes at most `limit` `processed` rows whose `processedAt` is older than `olderThanMs`. */
  purge(options: PurgeOptions): Promise<number>;
}
