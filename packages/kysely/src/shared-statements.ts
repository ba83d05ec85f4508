import { executeRequest, type Reuse } from './compiled-statements.js';
import type { AnyDb, InsertManyIfAbsent, UpdateReturningIds, UpdateReturningKeys } from './dialect.js';

/**
 * `UPDATE … WHERE <fence> RETURNING id`, one round trip, for databases with
 * `RETURNING` (Postgres, SQLite).
 */
export async function updateWithReturning(db: AnyDb, update: UpdateReturningIds): Promise<string[]> {
  const { rows } = await executeRequest(db, 'update-returning-id', update, update.reuse, (conn, u) => conn.updateTable(u.table).set(u.set).where(u.where).returning('id'));
  return rows.map((r) => r.id as string);
}

/**
 * Select the ids `FOR UPDATE`, then update them, in one transaction, for
 * databases without `UPDATE … RETURNING` (MySQL, MariaDB).
 */
export async function updateWithLockedSelect(db: AnyDb, update: UpdateReturningIds): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const { rows: locked } = await executeRequest(trx, 'select-for-update-id', update, update.reuse, (conn, u) => conn.selectFrom(u.table).select('id').where(u.where).forUpdate());
    const ids = locked.map((r) => r.id as string);
    if (ids.length === 0) return [];
    await trx.updateTable(update.table).set(update.set).where('id', 'in', ids).execute();
    return ids;
  });
}

/** `UPDATE … WHERE <fence> RETURNING <keys>` inside the caller's transaction: one statement (Postgres, SQLite). */
export async function updateKeysWithReturning(tx: AnyDb, update: UpdateReturningKeys): Promise<Record<string, unknown>[]> {
  const { rows } = await executeRequest(tx, `update-returning:${update.keys.join()}`, update, update.reuse, (conn, u) =>
    conn.updateTable(u.table).set(u.set).where(u.where).returning([...u.keys]),
  );
  return rows;
}

/**
 * Inside the caller's transaction: select the keys `FOR UPDATE`, then update
 * those rows (still fenced by `where`), for databases without `UPDATE …
 * RETURNING` (MySQL, MariaDB). The rows stay locked in between, so the keys
 * returned are exactly the rows changed.
 */
export async function updateKeysWithLockedSelect(tx: AnyDb, update: UpdateReturningKeys): Promise<Record<string, unknown>[]> {
  const { rows: locked } = await executeRequest(tx, `select-for-update:${update.keys.join()}`, update, update.reuse, (conn, u) =>
    conn.selectFrom(u.table).select([...u.keys]).where(u.where).forUpdate(),
  );
  if (locked.length === 0) return [];
  await tx.updateTable(update.table).set(update.set).where(update.where).where(update.keyIn(locked)).execute();
  return locked;
}

/** `INSERT … ON CONFLICT DO NOTHING`, for databases that have it (Postgres, SQLite). */
export async function insertOnConflictDoNothing(tx: AnyDb, table: string, row: Record<string, unknown>, reuse?: Reuse<Record<string, unknown>>): Promise<boolean> {
  const result = await executeRequest(tx, `insert-on-conflict:${table}`, row, reuse, (conn, r) => conn.insertInto(table).values(r).onConflict((oc) => oc.doNothing()));
  return Number(result.numAffectedRows ?? 0) > 0;
}

/**
 * `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING <key>`: one
 * statement, and the rows it returns are exactly the ones it inserted
 * (Postgres, SQLite). A concurrent insert of the same key waits for the
 * other transaction and then skips the row (or inserts it, if that one rolled back).
 */
export async function insertManyOnConflictDoNothing(tx: AnyDb, insert: InsertManyIfAbsent): Promise<Record<string, unknown>[]> {
  const { rows } = await executeRequest(tx, `insert-many-on-conflict:${insert.key.join()}`, insert, insert.reuse, (conn, i) =>
    conn
      .insertInto(i.table)
      .values([...i.rows])
      .onConflict((oc) => oc.doNothing())
      .returning([...i.key]),
  );
  return rows;
}
