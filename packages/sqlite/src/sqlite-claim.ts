import { executeRequest, type AnyDb, type ClaimStatement } from '@messagebox/kysely';

/**
 * One `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING *`: SQLite takes the
 * write lock when the statement starts (as `BEGIN IMMEDIATE` would), so no
 * other writer can claim the same rows in between.
 */
export async function sqliteClaim(db: AnyDb, claim: ClaimStatement): Promise<Record<string, unknown>[]> {
  const { rows } = await executeRequest(db, 'sqlite.claim', claim, claim.reuse, (conn, c) =>
    conn
      .updateTable(c.table)
      .set(c.set)
      .where(c.keyIn(c.candidates(conn).orderBy('available_at').orderBy('id').limit(c.limit)))
      .returningAll(),
  );
  return rows;
}
