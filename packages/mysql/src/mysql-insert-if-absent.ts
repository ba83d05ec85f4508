import type { AnyDb } from '@messagebox/kysely';

const ER_DUP_ENTRY = 1062;

/**
 * A plain `INSERT` whose duplicate-key error means "already there". Not
 * `INSERT IGNORE`, which would also turn truncation and other errors into
 * warnings. A concurrent insert of the same id waits for the first
 * transaction, then fails as a duplicate (or succeeds if the first rolled back).
 */
export async function mysqlInsertIfAbsent(tx: AnyDb, table: string, row: Record<string, unknown>): Promise<boolean> {
  try {
    await tx.insertInto(table).values(row).execute();
    return true;
  } catch (error) {
    if ((error as { errno?: number }).errno === ER_DUP_ENTRY) return false;
    throw error;
  }
}
