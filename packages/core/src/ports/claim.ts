/**
 * Proof of ownership of a claimed row. Every completion (sent, processed,
 * retry, dead, release) names the token it claimed with; a store applies it
 * only while the row still carries that token, so a worker whose lease
 * expired and whose row was claimed again cannot overwrite the new owner.
 */
export interface Claim {
  readonly id: string;
  readonly token: string;
}

/** Options for claiming rows. */
export interface ClaimOptions {
  /** Claim token written to every claimed row (one per batch). */
  token: string;
  /** How long the claim lasts, in ms, counted in the store's time (database time for SQL stores). */
  leaseMs: number;
  /** Most rows to claim. */
  limit: number;
  /**
   * Keyed rows (see `Message.key`): what a `dead` row does to the later rows
   * of its key. `block` (default): they stay unclaimable until it is
   * replayed or deleted. `skip`: it is passed over. Whatever this says, a
   * keyed row is claimed only while no earlier row of its key (in creation
   * order) is waiting (due later, or claimed).
   */
  deadKey?: DeadKeyPolicy;
}

/**
 * What a dead message does to the later messages of its key: `block` them
 * (until it is replayed or deleted), or `skip` it and go on with the next.
 */
export type DeadKeyPolicy = 'block' | 'skip';

/** A claim taken at insert time: the row is written already owned by `token`. */
export interface InsertClaim {
  token: string;
  leaseMs: number;
}

/** Options for recording a failed attempt that will be retried. */
export interface RetryOptions {
  /** Delay from now (store time) until the row is due again. */
  delayMs: number;
  /** Description of the failure, kept as `lastError`. */
  error: string;
}

/** Filter for listing, replaying and inspecting rows. */
export interface RecordFilter<S extends string> {
  status?: S;
  type?: string;
  /** Only rows created (outbox) or received (inbox) before this time. */
  before?: Date;
  /** Only rows whose `lastError` contains this text (case-sensitive). */
  errorContains?: string;
  /**
   * Only messages from this source. An inbox message is identified by
   * `(source, id)`, so `{ source, ids }` names inbox messages exactly.
   */
  source?: string;
  /** Only these ids (of any source unless `source` is given). */
  ids?: readonly string[];
  /** Most rows to return. Default 100. */
  limit?: number;
  /**
   * Keyset paging: only rows after this one in list order (created time for
   * the outbox, received time for the inbox, then id, then source). Pass
   * the last row of the previous page.
   */
  after?: RecordCursor;
}

/**
 * A position in a list: the list-order time (`createdAt` in the outbox,
 * `receivedAt` in the inbox), the id, and (inbox) the source.
 *
 * @example
 * const next = await store.list({ status: 'dead', limit: 50, after: { at: last.createdAt, id: last.id, source: last.source } });
 */
export interface RecordCursor {
  at: Date;
  id: string;
  source: string;
}

/** Options for deleting finished rows. */
export interface PurgeOptions {
  /** Delete finished rows that finished longer ago than this, in ms. */
  olderThanMs: number;
  /** Most rows deleted by this call (one bounded batch). */
  limit: number;
}

export type Unsubscribe = () => Promise<void>;
