import type { AnyDb, ClaimStatement } from '@messagebox/kysely';

/**
 * One round trip: `UPDATE … WHERE id IN (SELECT … ORDER BY available_at
 * LIMIT n FOR UPDATE SKIP LOCKED) RETURNING *`. Rows another claimer holds
 * are skipped, not waited for.
 */
export async function postgresClaim(db: AnyDb, claim: ClaimStatement): Promise<Record<string, unknown>[]> {
  return db
    .updateTable(claim.table)
    .set(claim.set)
    .where(claim.keyIn(claim.candidates(db).orderBy('available_at').orderBy('id').limit(claim.limit).forUpdate().skipLocked()))
    .returningAll()
    .execute();
}
