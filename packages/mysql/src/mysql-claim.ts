import { executeRequest, type AnyDb, type ClaimStatement } from '@messagebox/kysely';

/**
 * MySQL and MariaDB have no `UPDATE … RETURNING`: in one READ COMMITTED
 * transaction, `SELECT id … ORDER BY available_at, id LIMIT n FOR UPDATE SKIP
 * LOCKED`, update those rows, read them back.
 *
 * The order is served by the `(status, available_at, id, lease_until)` claim
 * index (migration `0003_mysql_claim_order`): a range scan in due order that
 * stops after `n` claimable rows, so it locks about what it returns. Without
 * `ORDER BY` the optimizer was free to scan the table (`type: ALL` with 500 of
 * 3,000 rows pending) and return primary-key order, so ids that sort late
 * starved under a backlog. An `ORDER BY` no index serves would be worse: a
 * filesort under `FOR UPDATE` locks every candidate before it sorts. The plan
 * (index range, no filesort) is checked by a test.
 *
 * Keyed rows add a `NOT EXISTS` probe of the key-order index per keyed
 * candidate (migration `0005_ordering_keys`); the scan passes, and locks
 * until commit, the keyed rows that wait behind an earlier one of their key
 * (InnoDB keeps those locks in READ COMMITTED too; see `mysqlKeyOrderMigration`).
 */
export async function mysqlClaim(db: AnyDb, claim: ClaimStatement): Promise<Record<string, unknown>[]> {
  return db
    .transaction()
    .setIsolationLevel('read committed')
    .execute(async (trx) => {
      const { rows: keys } = await executeRequest(trx, 'mysql.claim-keys', claim, claim.reuse, (conn, c) =>
        c.candidates(conn).orderBy('available_at').orderBy('id').limit(c.limit).forUpdate().skipLocked(),
      );
      if (keys.length === 0) return [];
      await trx.updateTable(claim.table).set(claim.set).where(claim.keyIn(keys)).execute();
      return trx.selectFrom(claim.table).selectAll().where(claim.keyIn(keys)).execute();
    });
}
