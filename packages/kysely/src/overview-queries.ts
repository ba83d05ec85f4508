import type { FinishedBucket, RecordFilter, StoreOverview, StoreOverviewOptions, TypeCounts } from '@messagebox/core';
import { sql } from 'kysely';
import { recordFilter } from './filters.js';
import type { TableShape } from './shared-operations.js';
import type { StoreContext } from './store-context.js';
import { integer, toMillis } from './time.js';

/**
 * The dashboard's overview in four grouped statements, each served by an
 * index (Postgres plans are checked in `@messagebox/dashboard`'s tests):
 * waiting rows (counts, ages, attempts, leases) through the partial `_due`
 * index; finished and dead rows by type through the partial indexes of
 * migration `0004_operations_indexes` (from the index alone); throughput
 * through the partial index on finish time, for the last `sinceMs` only.
 * Every `status` is a literal, so SQLite and Postgres can prove a partial
 * index applies.
 */
export async function overviewOf({ db, time }: StoreContext, shape: TableShape, options: StoreOverviewOptions): Promise<StoreOverview> {
  const bucketMs = integer(options.bucketMs, 'bucketMs');
  const finishedAt = sql.ref(shape.finishedAt);
  const bucket = sql<number>`${finishedAt} - ${finishedAt} % ${sql.lit(bucketMs)}`;
  const countByType = (status: string) =>
    db
      .selectFrom(shape.table)
      .select(['type', (eb) => eb.fn.countAll().as('n')])
      .where('status', '=', sql.lit(status))
      .groupBy('type')
      .execute();
  const [waiting, finished, dead, buckets] = await Promise.all([
    db
      .selectFrom(shape.table)
      .select([
        'type',
        (eb) => eb.fn.countAll().as('n'),
        (eb) => eb.fn.min(shape.waitingSince).as('oldest'),
        (eb) => eb.fn.sum('attempts').as('attempts'),
        (eb) => eb.fn.max('attempts').as('max_attempts'),
        sql<number>`sum(case when lease_until > ${time.now()} then 1 else 0 end)`.as('in_flight'),
      ])
      .where('status', '=', sql.lit(shape.waiting))
      .groupBy('type')
      .execute(),
    countByType(shape.finished),
    countByType('dead'),
    db
      .selectFrom(shape.table)
      .select(['type', bucket.as('start'), (eb) => eb.fn.countAll().as('n')])
      .where('status', '=', sql.lit(shape.finished))
      .where(shape.finishedAt, '>=', time.plus(-integer(options.sinceMs, 'sinceMs')))
      .groupBy(['type', bucket])
      .execute(),
  ]);
  const types = new Map<string, TypeCounts>();
  const of = (type: string) => {
    let found = types.get(type);
    if (!found) types.set(type, (found = { type, waiting: 0, inFlight: 0, finished: 0, dead: 0, oldestWaitingAt: null, waitingAttempts: 0, maxAttempts: 0 }));
    return found;
  };
  for (const row of waiting) {
    const entry = of(row.type as string);
    entry.waiting = Number(row.n);
    entry.oldestWaitingAt = row.oldest == null ? null : new Date(toMillis(row.oldest as number | string));
    entry.waitingAttempts = Number(row.attempts ?? 0);
    entry.maxAttempts = Number(row.max_attempts ?? 0);
    entry.inFlight = Number(row.in_flight ?? 0);
  }
  for (const row of finished) of(row.type as string).finished = Number(row.n);
  for (const row of dead) of(row.type as string).dead = Number(row.n);
  const finishedBuckets: FinishedBucket[] = buckets.map((row) => ({ type: row.type as string, start: new Date(toMillis(row.start as number | string)), finished: Number(row.n) }));
  const byType = (a: { type: string }, b: { type: string }) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0);
  return { types: [...types.values()].sort(byType), finished: finishedBuckets.sort((a, b) => byType(a, b) || a.start.getTime() - b.start.getTime()) };
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
