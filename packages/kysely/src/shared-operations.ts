import type { Claim, PurgeOptions } from '@messagebox/core';
import { sql } from 'kysely';
import { ownedBy } from './filters.js';
import type { StoreContext } from './store-context.js';
import { integer } from './time.js';

/** The status names and columns that differ between the outbox and the inbox tables. */
export interface TableShape {
  table: string;
  waiting: string;
  finished: string;
  /** Column set when a row finishes (`sent_at`, `processed_at`). */
  finishedAt: string;
  /** Column that `stats().oldestPendingAt` reads (`created_at`, `received_at`). */
  waitingSince: string;
}

/** Fenced: clears the lease, gives back the attempt, makes the rows due now. One statement. */
export async function releaseClaims({ db, time }: StoreContext, shape: TableShape, claims: readonly Claim[]): Promise<number> {
  if (claims.length === 0) return 0;
  const result = await db
    .updateTable(shape.table)
    .where((eb) => ownedBy(eb, claims, shape.waiting))
    .set((eb) => ({
      attempts: eb.case().when('attempts', '>', 0).then(eb('attempts', '-', 1)).else(0).end(),
      available_at: eb.case().when('available_at', '>', time.now()).then(time.now()).else(eb.ref('available_at')).end(),
      lease_until: null,
      claim_token: null,
    }))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Counts by status, and the oldest waiting row. */
export async function countByStatus({ db }: StoreContext, shape: TableShape): Promise<{ count(status: string): number; oldestWaiting: Date | null }> {
  const counts = await db.selectFrom(shape.table).select(['status', (eb) => eb.fn.countAll().as('n')]).groupBy('status').execute();
  const oldest = await db
    .selectFrom(shape.table)
    .select((eb) => eb.fn.min(shape.waitingSince).as('t'))
    .where('status', '=', sql.lit(shape.waiting))
    .executeTakeFirst();
  const t = oldest?.t as number | string | null | undefined;
  return {
    count: (status) => Number(counts.find((c) => c.status === status)?.n ?? 0),
    oldestWaiting: t == null ? null : new Date(Number(t)),
  };
}

/** Deletes at most `limit` finished rows older than `olderThanMs`: picks ids first (DELETE … LIMIT is not portable). */
export async function purgeFinished({ db, time }: StoreContext, shape: TableShape, options: PurgeOptions): Promise<number> {
  const ids = await db
    .selectFrom(shape.table)
    .select('id')
    .where('status', '=', sql.lit(shape.finished))
    .where(shape.finishedAt, '<', time.plus(-options.olderThanMs))
    .limit(integer(options.limit, 'limit'))
    .execute();
  if (ids.length === 0) return 0;
  const result = await db
    .deleteFrom(shape.table)
    .where('id', 'in', ids.map((r) => r.id as string))
    .where('status', '=', shape.finished)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
