import type { AnyDb, ClaimStatement } from '@messagebox/kysely';

/**
 * MySQL and MariaDB have no `UPDATE … RETURNING`: in one READ COMMITTED
 * transaction, `SELECT id … LIMIT n FOR UPDATE SKIP LOCKED`, update those
 * rows, read them back. No `ORDER BY` with the lock: the `(status,
 * available_at, lease_until)` index already yields due order, and sorting
 * under a lock would lock more rows than it returns.
 */
export async function mysqlClaim(db: AnyDb, claim: ClaimStatement): Promise<Record<string, unknown>[]> {
  return db
    .transaction()
    .setIsolationLevel('read committed')
    .execute(async (trx) => {
      const keys = await claim.candidates(trx).limit(claim.limit).forUpdate().skipLocked().execute();
      if (keys.length === 0) return [];
      await trx.updateTable(claim.table).set(claim.set).where(claim.keyIn(keys)).execute();
      return trx.selectFrom(claim.table).selectAll().where(claim.keyIn(keys)).execute();
    });
}
