import type { AnyDb, ClaimStatement } from '@messagebox/kysely';

/**
 * One `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING *`: SQLite takes the
 * write lock when the statement starts (as `BEGIN IMMEDIATE` would), so no
 * other writer can claim the same rows in between.
 */
export async function sqliteClaim(db: AnyDb, claim: ClaimStatement): Promise<Record<string, unknown>[]> {
  return db
    .updateTable(claim.table)
    .set(claim.set)
    .where(claim.keyIn(claim.candidates(db).orderBy('available_at').orderBy('id').limit(claim.limit)))
    .returningAll()
    .execute();
}
