/**
 * What an operator's overview reads from a store (`OutboxStore.overview`,
 * `InboxStore.overview`), per message type.
 */

/** Counts of one message type in one store. "Waiting" is `pending` (outbox) or `received` (inbox). */
export interface TypeCounts {
  type: string;
  /** Rows waiting to be sent or handled, including those in flight. */
  waiting: number;
  /** Waiting rows under a live lease (a worker is on them right now). */
  inFlight: number;
  /** Rows `sent` (outbox) or `processed` (inbox). */
  finished: number;
  dead: number;
  /** When the oldest waiting row was created (outbox) or received (inbox), or null. */
  oldestWaitingAt: Date | null;
  /** Attempts made so far on the waiting rows, added up. */
  waitingAttempts: number;
  /** Most attempts any waiting row has had. */
  maxAttempts: number;
}

/** How many rows of one type finished in one time bucket. */
export interface FinishedBucket {
  type: string;
  /** Start of the bucket (a multiple of `bucketMs` since the epoch). */
  start: Date;
  finished: number;
}

/**
 * Options of `OutboxStore.overview` and `InboxStore.overview`.
 *
 * @example
 * await store.overview({ sinceMs: 15 * 60_000, bucketMs: 60_000 })
 */
export interface StoreOverviewOptions {
  /** How far back finished rows are bucketed, in ms before now (store time). */
  sinceMs: number;
  /** Bucket width in ms. */
  bucketMs: number;
}

/** Per-type counts and finished-per-bucket counts of one store. */
export interface StoreOverview {
  types: TypeCounts[];
  /** Buckets that have at least one finished row; empty ones are absent. */
  finished: FinishedBucket[];
}
