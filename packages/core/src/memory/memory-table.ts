import type { Clock } from '../clock.js';
import type { Message } from '../message.js';
import type { Claim, ClaimOptions, DeadKeyPolicy, InsertClaim, PurgeOptions, RecordFilter, RetryOptions } from '../ports/claim.js';
import type { FinishedBucket, StoreOverview, StoreOverviewOptions, TypeCounts } from '../ports/overview.js';

/** One stored row, shared by the in-memory outbox and inbox (status names differ). */
export interface MemoryRow {
  message: Message;
  status: string;
  attempts: number;
  createdAt: number;
  availableAt: number;
  lastError: string | null;
  finishedAt: number | null;
  token: string | null;
  leaseUntil: number | null;
  /** Place in creation (insert) order. */
  seq: number;
}

/** Status names of one side: the waiting one, the finished one. */
export interface MemoryStatuses {
  waiting: string;
  finished: string;
}

/** What a row is looked up by: a message, a record or a claim. */
export interface MemoryKeyed {
  readonly id: string;
  readonly source?: string;
}

/** Maps a message, record or claim to the key its row is stored under. Default: the id. */
export type MemoryKeyOf = (keyed: MemoryKeyed) => string;

/**
 * The rows of one in-memory store and the operations both sides share.
 * Fencing and leases behave as the ports describe. Rows are stored under
 * `keyOf(message)`, and claims are matched by `keyOf(claim)`.
 */
export class MemoryTable {
  readonly rows = new Map<string, MemoryRow>();
  readonly #staged = new WeakMap<object, Set<string>>();
  readonly #stagedOrder = new WeakMap<object, Set<string>>();
  #seq = 0;

  /** `orderOf` names the ordering key of a keyed message (the inbox scopes it by source); undefined for unkeyed ones. */
  constructor(
    readonly clock: Clock,
    readonly statuses: MemoryStatuses,
    readonly keyOf: MemoryKeyOf = (keyed) => keyed.id,
    readonly orderOf: (message: Message) => string | undefined = (message) => message.key,
  ) {}

  /** Ordering keys a transaction is about to insert rows of (they hold their key's turn for that transaction). */
  stagedOrder(tx: object): Set<string> {
    let keys = this.#stagedOrder.get(tx);
    if (!keys) this.#stagedOrder.set(tx, (keys = new Set()));
    return keys;
  }

  /** Which of `names` (as `orderOf` names them) have a row holding the key's turn, committed or staged in `tx`. */
  blockedKeys(tx: object, names: readonly string[], deadKey: DeadKeyPolicy): Set<string> {
    const wanted = new Set(names);
    const blocked = new Set([...this.stagedOrder(tx)].filter((name) => wanted.has(name)));
    for (const row of this.rows.values()) {
      const name = this.orderOf(row.message);
      if (name !== undefined && wanted.has(name) && this.#holdsTurn(row, deadKey)) blocked.add(name);
    }
    return blocked;
  }

  #holdsTurn(row: MemoryRow, deadKey: DeadKeyPolicy): boolean {
    return row.status === this.statuses.waiting || (deadKey === 'block' && row.status === 'dead');
  }

  /** True when a row earlier in creation order than `row`, of its ordering key, holds the key's turn. */
  #behindEarlier(row: MemoryRow, deadKey: DeadKeyPolicy): boolean {
    const name = this.orderOf(row.message);
    if (name === undefined) return false;
    for (const other of this.rows.values()) {
      if (other.seq < row.seq && this.#holdsTurn(other, deadKey) && this.orderOf(other.message) === name) return true;
    }
    return false;
  }

  /** Keys a transaction is about to insert into this table (so a second insert in it is a duplicate). */
  stagedKeys(tx: object): Set<string> {
    let keys = this.#staged.get(tx);
    if (!keys) this.#staged.set(tx, (keys = new Set()));
    return keys;
  }

  /** A new waiting row; `createdAt` (what lists order by and `before` compares) defaults to now: the inbox's receive time. */
  newRow(message: Message, claim: InsertClaim | undefined, createdAt?: number): MemoryRow {
    const now = this.clock.now();
    return {
      message: structuredClone(message),
      status: this.statuses.waiting,
      attempts: claim ? 1 : 0,
      createdAt: createdAt ?? now,
      availableAt: claim ? now + claim.leaseMs : now,
      lastError: null,
      finishedAt: null,
      token: claim?.token ?? null,
      leaseUntil: claim ? now + claim.leaseMs : null,
      seq: ++this.#seq,
    };
  }

  claimDue(options: ClaimOptions, accept: (row: MemoryRow) => boolean = () => true): MemoryRow[] {
    const now = this.clock.now();
    const due = [...this.rows.values()]
      .filter((r) => r.status === this.statuses.waiting && r.availableAt <= now && (r.leaseUntil === null || r.leaseUntil <= now) && accept(r) && !this.#behindEarlier(r, options.deadKey ?? 'block'))
      .sort((a, b) => a.availableAt - b.availableAt || a.message.id.localeCompare(b.message.id))
      .slice(0, Math.max(0, options.limit));
    for (const row of due) {
      row.token = options.token;
      row.leaseUntil = now + options.leaseMs;
      row.availableAt = row.leaseUntil; // due again when the lease ends, as in the SQL stores
      row.attempts += 1;
    }
    return due;
  }

  /** The row if `claim` still owns it (waiting, same token); undefined when fenced out. */
  owned(claim: Claim): MemoryRow | undefined {
    const row = this.rows.get(this.keyOf(claim));
    return row && row.status === this.statuses.waiting && row.token === claim.token ? row : undefined;
  }

  finish(row: MemoryRow): void {
    row.status = this.statuses.finished;
    row.finishedAt = this.clock.now();
    row.token = null;
    row.leaseUntil = null;
  }

  scheduleRetry(claim: Claim, options: RetryOptions): boolean {
    const row = this.owned(claim);
    if (!row) return false;
    row.availableAt = this.clock.now() + options.delayMs;
    row.lastError = options.error;
    row.token = null;
    row.leaseUntil = null;
    return true;
  }

  markDead(claim: Claim, error: string): boolean {
    const row = this.owned(claim);
    if (!row) return false;
    row.status = 'dead';
    row.lastError = error;
    row.finishedAt = this.clock.now();
    row.token = null;
    row.leaseUntil = null;
    return true;
  }

  release(claims: readonly Claim[]): number {
    let count = 0;
    for (const claim of claims) {
      const row = this.owned(claim);
      if (!row) continue;
      row.token = null;
      row.leaseUntil = null;
      row.attempts = Math.max(0, row.attempts - 1);
      row.availableAt = Math.min(row.availableAt, this.clock.now());
      count++;
    }
    return count;
  }

  list(filter: RecordFilter<string> = {}): MemoryRow[] {
    const after = filter.after;
    return this.matching(filter)
      .filter((r) => after === undefined || compareRows(r, after.at.getTime(), after.id, after.source) > 0)
      .sort((a, b) => compareRows(a, b.createdAt, b.message.id, b.message.source))
      .slice(0, filter.limit ?? 100);
  }

  /** Rows matching `filter` in no particular order (`limit` and `after` ignored). */
  matching(filter: RecordFilter<string> = {}): MemoryRow[] {
    const ids = filter.ids ? new Set(filter.ids) : undefined;
    const before = filter.before?.getTime();
    return [...this.rows.values()].filter(
      (r) =>
        (filter.status === undefined || r.status === filter.status) &&
        (filter.type === undefined || r.message.type === filter.type) &&
        (before === undefined || r.createdAt < before) &&
        (filter.errorContains === undefined || (r.lastError ?? '').includes(filter.errorContains)) &&
        (filter.source === undefined || r.message.source === filter.source) &&
        (ids === undefined || ids.has(r.message.id)),
    );
  }

  /** Counts by type and finished rows per bucket, as the ports' `overview` describes. */
  overview(options: StoreOverviewOptions): StoreOverview {
    const now = this.clock.now();
    const since = now - options.sinceMs;
    const types = new Map<string, TypeCounts>();
    const buckets = new Map<string, FinishedBucket>();
    for (const row of this.rows.values()) {
      const type = row.message.type;
      let counts = types.get(type);
      if (!counts) types.set(type, (counts = { type, waiting: 0, inFlight: 0, finished: 0, dead: 0, oldestWaitingAt: null, waitingAttempts: 0, maxAttempts: 0 }));
      if (row.status === this.statuses.waiting) {
        counts.waiting++;
        if (row.leaseUntil !== null && row.leaseUntil > now) counts.inFlight++;
        if (counts.oldestWaitingAt === null || row.createdAt < counts.oldestWaitingAt.getTime()) counts.oldestWaitingAt = new Date(row.createdAt);
        counts.waitingAttempts += row.attempts;
        counts.maxAttempts = Math.max(counts.maxAttempts, row.attempts);
      } else if (row.status === this.statuses.finished) {
        counts.finished++;
        if (row.finishedAt !== null && row.finishedAt >= since) {
          const start = row.finishedAt - (row.finishedAt % options.bucketMs);
          const key = JSON.stringify([type, start]);
          const bucket = buckets.get(key) ?? { type, start: new Date(start), finished: 0 };
          bucket.finished++;
          buckets.set(key, bucket);
        }
      } else if (row.status === 'dead') counts.dead++;
    }
    const byType = (a: { type: string }, b: { type: string }) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
    return { types: [...types.values()].sort(byType), finished: [...buckets.values()].sort((a, b) => byType(a, b) || a.start.getTime() - b.start.getTime()) };
  }

  replay(filter: Omit<RecordFilter<string>, 'status'>): number {
    const rows = this.list({ ...filter, status: 'dead', limit: filter.limit ?? Number.MAX_SAFE_INTEGER });
    for (const row of rows) {
      row.status = this.statuses.waiting;
      row.attempts = 0;
      row.availableAt = this.clock.now();
      row.finishedAt = null;
      row.token = null;
      row.leaseUntil = null;
    }
    return rows.length;
  }

  purge(options: PurgeOptions): number {
    const cutoff = this.clock.now() - options.olderThanMs;
    let deleted = 0;
    for (const [key, row] of this.rows) {
      if (deleted >= options.limit) break;
      if (row.status === this.statuses.finished && row.finishedAt !== null && row.finishedAt < cutoff) {
        this.rows.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  /** The port members both stores implement the same way, given how a row becomes a record. */
  sharedOperations<R>(toRecord: (row: MemoryRow) => R) {
    return {
      scheduleRetry: async (claim: Claim, options: RetryOptions) => this.scheduleRetry(claim, options),
      markDead: async (claim: Claim, options: { error: string }) => this.markDead(claim, options.error),
      release: async (claims: readonly Claim[]) => this.release(claims),
      list: async (filter?: RecordFilter<string>) => this.list(filter).map(toRecord),
      count: async (filter?: RecordFilter<string>) => this.matching(filter).length,
      overview: async (options: StoreOverviewOptions) => this.overview(options),
      get: async (id: string) => this.getRecord({ id }, toRecord),
      replay: async (filter: Omit<RecordFilter<string>, 'status'>) => this.replay(filter),
      purge: async (options: PurgeOptions) => this.purge(options),
    };
  }

  /** The row stored under `keyOf(keyed)` as a record, or null. */
  getRecord<R>(keyed: MemoryKeyed, toRecord: (row: MemoryRow) => R): R | null {
    const row = this.rows.get(this.keyOf(keyed));
    return row ? toRecord(row) : null;
  }

  counts(): { byStatus: Map<string, number>; oldestWaiting: Date | null } {
    const byStatus = new Map<string, number>();
    let oldest: number | null = null;
    for (const row of this.rows.values()) {
      byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
      if (row.status === this.statuses.waiting && (oldest === null || row.createdAt < oldest)) oldest = row.createdAt;
    }
    return { byStatus, oldestWaiting: oldest === null ? null : new Date(oldest) };
  }
}

/** List order: created (received) time, then id, then source; negative when `row` comes first. */
function compareRows(row: MemoryRow, at: number, id: string, source: string): number {
  const { id: rowId, source: rowSource } = row.message;
  return row.createdAt - at || (rowId < id ? -1 : rowId > id ? 1 : 0) || (rowSource < source ? -1 : rowSource > source ? 1 : 0);
}
