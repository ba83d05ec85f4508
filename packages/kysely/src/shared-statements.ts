import type { AnyDb, InsertManyIfAbsent, UpdateReturningIds, UpdateReturningKeys } from './dialect.js';

/**
 * `UPDATE … WHERE <fence> RETURNING id`, one round trip, for databases with
 * `RETURNING` (Postgres, SQLite).
 */
export async function updateWithReturning(db: AnyDb, update: UpdateReturningIds): Promise<string[]> {
  const rows = await db.updateTable(update.table).set(update.set).where(update.where).returning('id').execute();
  return rows.map((r) => r.id as string);
}

/**
 * Select the ids `FOR UPDATE`, then update them, in one transaction, for
 * databases without `UPDATE … RETURNING` (MySQL, MariaDB).
 */
export async function updateWithLockedSelect(db: AnyDb, update: UpdateReturningIds): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const locked = await trx.selectFrom(update.table).select('id').where(update.where).forUpdate().execute();
    const ids = locked.map((r) => r.id as string);
    if (ids.length === 0) return [];
    await trx.updateTable(update.table).set(update.set).where('id', 'in', ids).execute();
    return ids;
  });
}

/** `UPDATE … WHERE <fence> RETURNING <keys>` inside the caller's transaction: one statement (Postgres, SQLite). */
export async function updateKeysWithReturning(tx: AnyDb, update: UpdateReturningKeys): Promise<Record<string, unknown>[]> {
  return tx.updateTable(update.table).set(update.set).where(update.where).returning([...update.keys]).execute();
}

/**
 * Inside the caller's transaction: select the keys `FOR UPDATE`, then update
 * those rows (still fenced by `where`), for databases without `UPDATE …
 * RETURNING` (MySQL, MariaDB). The rows stay locked in between, so the keys
 * returned are exactly the rows changed.
 */
export async function updateKeysWithLockedSelect(tx: AnyDb, update: UpdateReturningKeys): Promise<Record<string, unknown>[]> {
  const locked = await tx.selectFrom(update.table).select([...update.keys]).where(update.where).forUpdate().execute();
  if (locked.length === 0) return [];
  await tx.updateTable(update.table).set(update.set).where(update.where).where(update.keyIn(locked)).execute();
  return locked;
}

/** `INSERT … ON CONFLICT DO NOTHING`, for databases that have it (Postgres, SQLite). */
export async function insertOnConflictDoNothing(tx: AnyDb, table: string, row: Record<string, unknown>): Promise<boolean> {
  const result = await tx.insertInto(table).values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING <key>`: one
 * statement, and the rows it returns are exactly the ones it inserted
 * (Postgres, SQLite). A concurrent insert of the same key waits for the
 * other transaction and then skips the row (or inserts it, if that one rolled back).
 */
export async function insertManyOnConflictDoNothing(tx: AnyDb, insert: InsertManyIfAbsent): Promise<Record<string, unknown>[]> {
  return tx
    .insertInto(insert.table)
    .values([...insert.rows])
    .onConflict((oc) => oc.doNothing())
    .returning([...insert.key])
    .execute();
}
