import { executeRequest, type AnyDb, type ClaimStatement } from '@messagebox/kysely';
import type { ClaimStatisticsKeeper } from './claim-statistics.js';

/**
 * One round trip: `UPDATE … WHERE id IN (SELECT … ORDER BY available_at
 * LIMIT n FOR UPDATE SKIP LOCKED) RETURNING *`. Rows another claimer holds
 * are skipped, not waited for. Each claim's duration goes to `statistics`,
 * which refreshes the table's planner statistics when the claim was not an
 * index walk.
 */
export function postgresClaim(statistics?: ClaimStatisticsKeeper) {
  return async (db: AnyDb, claim: ClaimStatement): Promise<Record<string, unknown>[]> => {
    const started = performance.now();
    const { rows } = await executeRequest(db, 'postgres.claim', claim, claim.reuse, (conn, c) =>
      conn
        .updateTable(c.table)
        .set(c.set)
        .where(c.keyIn(c.candidates(conn).orderBy('available_at').orderBy('id').limit(c.limit).forUpdate().skipLocked()))
        .returningAll(),
    );
    statistics?.observe(db, claim.table, { rows: rows.length, limit: claim.limit, ms: performance.now() - started });
    return rows;
  };
}
