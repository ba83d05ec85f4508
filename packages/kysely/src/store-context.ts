import type { Clock } from '@messagebox/core';
import type { Kysely } from 'kysely';
import { StatementCache } from './compiled-statements.js';
import type { AnyDb, MessageboxDialect } from './dialect.js';
import { resolveTables, type MessageboxTables, type TableNameOptions } from './tables.js';
import { createStoreTime, type StoreTime } from './time.js';

/** Options shared by the Kysely stores. */
export interface KyselyStoreOptions<DB> extends TableNameOptions {
  /** The application's own Kysely instance. */
  db: Kysely<DB>;
  dialect: MessageboxDialect;
  /** Replaces database time (tests of backoff). Default: the database clock. */
  clock?: Clock;
}

/** @internal What every store operation needs. */
export interface StoreContext {
  db: AnyDb;
  dialect: MessageboxDialect;
  tables: MessageboxTables;
  time: StoreTime;
  /** The store's hot statements, compiled once per shape. */
  statements: StatementCache;
}

export function createStoreContext<DB>(options: KyselyStoreOptions<DB>): StoreContext {
  return {
    db: options.db as unknown as AnyDb,
    dialect: options.dialect,
    tables: resolveTables(options),
    time: createStoreTime(options.dialect, options.clock),
    statements: new StatementCache(options.db as unknown as AnyDb, { onCompiled: options.dialect.reusedStatement?.bind(options.dialect) }),
  };
}

/** Runs a keyed update of `keys` claimed rows of `table` and tells the dialect how it went (see `MessageboxDialect.observeKeyedUpdate`); untimed when the dialect does not ask. */
export async function observedKeyedUpdate<R>(context: StoreContext, table: string, keys: number, update: () => Promise<R[]>): Promise<R[]> {
  const observe = context.dialect.observeKeyedUpdate;
  if (!observe) return update();
  const started = performance.now();
  const rows = await update();
  observe.call(context.dialect, context.db, table, { keys, rows: rows.length, ms: performance.now() - started });
  return rows;
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
