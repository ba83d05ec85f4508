import type { FinishedBucket, RecordFilter, StoreOverview, StoreOverviewOptions, TypeCounts } from '@messagebox/core';
import { sql } from 'kysely';
import { recordFilter } from './filters.js';
import type { TableShape } from './shared-operations.js';
import type { StoreContext } from './store-context.js';
import { integer, toMillis } from './time.js';

/**
 * The dashboard's overview in three grouped statements, each served by an
 * index (Postgres plans are checked in `@messagebox/dashboard`'s tests):
 * counts by `(status, type)` read the `_status_type` index alone; the
 * waiting rows' ages, attempts and leases read the partial `_due` index
 * (waiting rows only); throughput reads the partial index on finished rows
 * by finish time, for the last `sinceMs` only.
 */
export async function overviewOf({ db, time }: StoreContext, shape: TableShape, options: StoreOverviewOptions): Promise<StoreOverview> {
  const bucketMs = integer(options.bucketMs, 'bucketMs');
  const finishedAt = sql.ref(shape.finishedAt);
  const [counts, waiting, finished] = await Promise.all([
    db.selectFrom(shape.table).select(['status', 'type', (eb) => eb.fn.countAll().as('n')]).groupBy(['status', 'type']).execute(),
    db
      .selectFrom(shape.table)
      .select([
        'type',
        (eb) => eb.fn.min(shape.waitingSince).as('oldest'),
        (eb) => eb.fn.sum('attempts').as('attempts'),
        (eb) => eb.fn.max('attempts').as('max_attempts'),
        sql<number>`sum(case when lease_until > ${time.now()} then 1 else 0 end)`.as('in_flight'),
      ])
      .where('status', '=', sql.lit(shape.waiting))
      .groupBy('type')
      .execute(),
    db
      .selectFrom(shape.table)
      .select(['type', sql<number>`${finishedAt} - ${finishedAt} % ${sql.lit(bucketMs)}`.as('start'), (eb) => eb.fn.countAll().as('n')])
      .where('status', '=', sql.lit(shape.finished))
      .where(shape.finishedAt, '>=', time.plus(-integer(options.sinceMs, 'sinceMs')))
      .groupBy(['type', sql`${finishedAt} - ${finishedAt} % ${sql.lit(bucketMs)}`])
      .execute(),
  ]);
  const types = new Map<string, TypeCounts>();
  const of = (type: string) => {
    let found = types.get(type);
    if (!found) types.set(type, (found = { type, waiting: 0, inFlight: 0, finished: 0, dead: 0, oldestWaitingAt: null, waitingAttempts: 0, maxAttempts: 0 }));
    return found;
  };
  for (const row of counts) {
    const entry = of(row.type as string);
    const n = Number(row.n);
    if (row.status === shape.waiting) entry.waiting = n;
    else if (row.status === shape.finished) entry.finished = n;
    else if (row.status === 'dead') entry.dead = n;
  }
  for (const row of waiting) {
    const entry = of(row.type as string);
    entry.oldestWaitingAt = row.oldest == null ? null : new Date(toMillis(row.oldest as number | string));
    entry.waitingAttempts = Number(row.attempts ?? 0);
    entry.maxAttempts = Number(row.max_attempts ?? 0);
    entry.inFlight = Number(row.in_flight ?? 0);
  }
  const buckets: FinishedBucket[] = finished.map((row) => ({ type: row.type as string, start: new Date(toMillis(row.start as number | string)), finished: Number(row.n) }));
  const byType = (a: { type: string }, b: { type: string }) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
  return { types: [...types.values()].sort(byType), finished: buckets.sort((a, b) => byType(a, b) || a.start.getTime() - b.start.getTime()) };
}

/** How many rows match `filter` (`limit` and `after` ignored); one `count(*)`. */
export async function countRecords({ db, dialect }: StoreContext, shape: TableShape, filter: RecordFilter<string>): Promise<number> {
  const { limit: _limit, after: _after, ...where } = filter;
  const row = await db
    .selectFrom(shape.table)
    .select((eb) => eb.fn.countAll().as('n'))
    .where((eb) => recordFilter(eb, dialect, where, shape.waitingSince))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
