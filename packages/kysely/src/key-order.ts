import type { DeadKeyPolicy } from '@messagebox/core';
import { MessageboxError } from '@messagebox/core';
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { AnyDb, MessageboxDialect } from './dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Eb = ExpressionBuilder<any, any>;

/** The column holding a row's ordering key (`Message.key`), NULL for unkeyed rows. */
export const ORDER_KEY = 'order_key';

/** What per-key ordering needs to know of a table. */
export interface KeyOrderShape {
  /** Qualified table name. */
  table: string;
  /** The waiting status (`pending`, `received`). */
  waiting: string;
  /** Columns that scope a key besides the key itself (the inbox: `source`). */
  scope: readonly string[];
}

/** The column ordering rows of a key in insert order: the dialect's `orderSequenceColumn` (default `order_seq`). */
export function sequenceColumn(dialect: MessageboxDialect): string {
  return dialect.orderSequenceColumn ?? 'order_seq';
}

/**
 * `status IN (waiting, 'dead')`, with `AND status <> 'dead'` when dead rows
 * do not hold their key (`skip`). Literals, and the `IN` list always there,
 * so SQLite and Postgres prove the partial key-order index (whose predicate
 * is `order_key IS NOT NULL AND status IN (waiting, 'dead')`) applies.
 */
function holdsTurn(eb: Eb, alias: string, waiting: string, deadKey: DeadKeyPolicy | boolean): Expression<SqlBool> {
  const status = sql.ref(`${alias}.status`);
  const held = sql<SqlBool>`${status} in (${sql.lit(waiting)}, ${sql.lit('dead')})`;
  return deadKey === 'skip' || deadKey === false ? eb.and([held, sql<SqlBool>`${status} <> ${sql.lit('dead')}`]) : held;
}

/**
 * The claim's condition that keeps per-key order: the row has no key, or no
 * row of its key (and scope) earlier in insert order holds the key's turn
 * (waiting: due, due later or claimed; or dead when dead blocks). A
 * correlated `NOT EXISTS` that the key-order index answers with one probe;
 * unkeyed rows stop at `order_key IS NULL` and never run it.
 */
export function firstOfItsKey(eb: Eb, dialect: MessageboxDialect, shape: KeyOrderShape, deadBlocks: boolean): Expression<SqlBool> {
  const seq = sequenceColumn(dialect);
  const outer = (column: string) => `${shape.table}.${column}`;
  const earlier = eb
    .selectFrom(`${shape.table} as earlier`)
    .select(sql.lit(1).as('one'))
    .whereRef(`earlier.${ORDER_KEY}`, '=', outer(ORDER_KEY))
    .$call((qb) => shape.scope.reduce((q, column) => q.whereRef(`earlier.${column}`, '=', outer(column)), qb))
    .whereRef(`earlier.${seq}`, '<', outer(seq))
    .where((inner) => holdsTurn(inner, 'earlier', shape.waiting, deadBlocks));
  return eb.or([eb(outer(ORDER_KEY), 'is', null), eb.not(eb.exists(earlier))]);
}

/**
 * Which of `keys` (objects of the scope columns and `order_key`) have a row
 * holding the key's turn, read inside `tx`: one `SELECT DISTINCT` the
 * key-order index answers.
 */
export async function blockedKeyRows(tx: AnyDb, shape: KeyOrderShape, keys: readonly Record<string, string>[], deadKey: DeadKeyPolicy): Promise<Record<string, string>[]> {
  if (keys.length === 0) return [];
  const columns = [...shape.scope, ORDER_KEY];
  const rows = await tx
    .selectFrom(shape.table)
    .select(columns)
    .distinct()
    .where((eb) =>
      eb.and([
        shape.scope.length === 0
          ? eb(ORDER_KEY, 'in', keys.map((k) => k[ORDER_KEY]!))
          : eb.or(keys.map((k) => eb.and(columns.map((column) => eb(column, '=', k[column]!))))),
        holdsTurn(eb, shape.table, shape.waiting, deadKey),
      ]),
    )
    .execute();
  return rows as Record<string, string>[];
}

/**
 * Throws `MessageboxError('invalid_options')` when a message has a key and
 * the dialect has no ordering columns (no `keyOrderMigration`): such a key
 * could be neither stored nor honoured.
 */
export function assertKeysStorable(dialect: MessageboxDialect, messages: readonly { key?: string; type: string }[]): void {
  if (dialect.keyOrderMigration) return;
  const keyed = messages.find((m) => m.key !== undefined);
  if (keyed) throw new MessageboxError('invalid_options', `the ${dialect.name} dialect has no ordering columns (no keyOrderMigration): a message with a key (type ${JSON.stringify(keyed.type)}) cannot be stored`);
}
