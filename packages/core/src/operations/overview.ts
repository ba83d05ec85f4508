import type { Clock } from '../clock.js';
import { MessageboxError } from '../errors.js';
import type { StoreOverview, TypeCounts } from '../ports/overview.js';
import { sidesOf, type MessageboxSide, type ResolvedTargets } from './targets.js';

/**
 * Options of {@link MessageboxOperations.overview}.
 *
 * @example
 * await ops.overview({ buckets: 30, bucketMs: 60_000 })
 */
export interface OverviewOptions {
  /** How many throughput buckets, the last one being the current (partial) one. Default 15. */
  buckets?: number;
  /** Width of a throughput bucket in ms. Default 60 000 (one minute). */
  bucketMs?: number;
}

/** Counts of one type (or of a whole side, `type` absent) with ages and throughput. */
export interface OverviewCounts extends Omit<TypeCounts, 'type'> {
  /** Age of the oldest waiting row in ms, or null when nothing waits. */
  oldestWaitingAgeMs: number | null;
  /** Rows finished (sent or processed) per bucket, oldest bucket first. */
  throughput: number[];
}

/** One side of the overview: totals, and one entry per message type. */
export interface SideOverview extends OverviewCounts {
  side: MessageboxSide;
  types: Array<OverviewCounts & { type: string }>;
}

/**
 * What {@link MessageboxOperations.overview} reports; sides that are not configured are absent.
 *
 * @example
 * const { outbox } = await ops.overview();
 * for (const t of outbox?.types ?? []) console.log(t.type, t.waiting, t.dead, t.throughput.join(' '));
 */
export interface OverviewReport {
  checkedAt: Date;
  bucketMs: number;
  /** Start of each throughput bucket, oldest first (the same for every entry). */
  bucketStarts: Date[];
  outbox?: SideOverview;
  inbox?: SideOverview;
}

export async function overviewOf(targets: ResolvedTargets, clock: Clock, options: OverviewOptions = {}): Promise<OverviewReport> {
  const buckets = options.buckets ?? 15;
  const bucketMs = options.bucketMs ?? 60_000;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1_440) throw new MessageboxError('invalid_options', `overview buckets must be an integer from 1 to 1440, got ${buckets}`);
  if (!Number.isInteger(bucketMs) || bucketMs < 1_000) throw new MessageboxError('invalid_options', `overview bucketMs must be an integer >= 1000, got ${bucketMs}`);
  const now = clock.now();
  const current = now - (now % bucketMs);
  const bucketStarts = Array.from({ length: buckets }, (_, i) => current - (buckets - 1 - i) * bucketMs);
  const report: OverviewReport = { checkedAt: new Date(now), bucketMs, bucketStarts: bucketStarts.map((t) => new Date(t)) };
  await Promise.all(
    sidesOf(targets).map(async (side) => {
      const store = side === 'outbox' ? targets.outboxStore! : targets.inboxStore!;
      if (typeof store.overview !== 'function') {
        throw new MessageboxError('invalid_options', `the ${side} store has no overview(); use a messagebox SQL or in-memory store, or implement it`);
      }
      const found = await store.overview({ sinceMs: now - bucketStarts[0]!, bucketMs });
      report[side] = toSide(side, found, bucketStarts, now);
    }),
  );
  return report;
}

function toSide(side: MessageboxSide, found: StoreOverview, bucketStarts: number[], now: number): SideOverview {
  const index = new Map(bucketStarts.map((start, i) => [start, i]));
  const throughputOf = new Map<string, number[]>();
  const total = bucketStarts.map(() => 0);
  for (const bucket of found.finished) {
    const i = index.get(bucket.start.getTime());
    if (i === undefined) continue;
    let series = throughputOf.get(bucket.type);
    if (!series) throughputOf.set(bucket.type, (series = bucketStarts.map(() => 0)));
    series[i]! += bucket.finished;
    total[i]! += bucket.finished;
  }
  const age = (at: Date | null) => (at === null ? null : Math.max(0, now - at.getTime()));
  const types = found.types.map((counts) => ({ ...counts, oldestWaitingAgeMs: age(counts.oldestWaitingAt), throughput: throughputOf.get(counts.type) ?? bucketStarts.map(() => 0) }));
  const sum = (field: 'waiting' | 'inFlight' | 'finished' | 'dead' | 'waitingAttempts') => types.reduce((n, t) => n + t[field], 0);
  const oldest = types.reduce<Date | null>((min, t) => (t.oldestWaitingAt && (!min || t.oldestWaitingAt < min) ? t.oldestWaitingAt : min), null);
  return {
    side,
    waiting: sum('waiting'),
    inFlight: sum('inFlight'),
    finished: sum('finished'),
    dead: sum('dead'),
    waitingAttempts: sum('waitingAttempts'),
    maxAttempts: types.reduce((n, t) => Math.max(n, t.maxAttempts), 0),
    oldestWaitingAt: oldest,
    oldestWaitingAgeMs: age(oldest),
    throughput: total,
    types,
  };
}
