import { executeRequest, type AnyDb, type ClaimStatement } from '@messagebox/kysely';

/**
 * One round trip: `UPDATE … WHERE id IN (SELECT … ORDER BY available_at
 * LIMIT n FOR UPDATE SKIP LOCKED) RETURNING *`. Rows another claimer holds
 * are skipped, not waited for.
 */
export async function postgresClaim(db: AnyDb, claim: ClaimStatement): Promise<Record<string, unknown>[]> {
  const { rows } = await executeRequest(db, 'postgres.claim', claim, claim.reuse, (conn, c) =>
    conn
      .updateTable(c.table)
      .set(c.set)
      .where(c.keyIn(c.candidates(conn).orderBy('available_at').orderBy('id').limit(c.limit).forUpdate().skipLocked()))
      .returningAll(),
  );
  return rows;
}
