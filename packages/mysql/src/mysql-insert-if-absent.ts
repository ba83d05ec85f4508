import { executeRequest, type AnyDb, type Reuse } from '@messagebox/kysely';

const ER_DUP_ENTRY = 1062;

/**
 * A plain `INSERT` whose duplicate-key error means "already there". Not
 * `INSERT IGNORE`, which would also turn truncation and other errors into
 * warnings. A concurrent insert of the same id waits for the first
 * transaction, then fails as a duplicate (or succeeds if the first rolled back).
 */
export async function mysqlInsertIfAbsent(tx: AnyDb, table: string, row: Record<string, unknown>, reuse?: Reuse<Record<string, unknown>>): Promise<boolean> {
  try {
    await executeRequest(tx, `mysql.insert:${table}`, row, reuse, (conn, r) => conn.insertInto(table).values(r));
    return true;
  } catch (error) {
    if ((error as { errno?: number }).errno === ER_DUP_ENTRY) return false;
    throw error;
  }
}
