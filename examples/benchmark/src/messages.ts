import { createOutbox, type Transport } from '@messagebox/core';
import type { AnyDb, DatabaseRef } from './databases.js';
import { storageOn } from './databases.js';

export const MESSAGE_TYPE = 'bench.item';

/** A payload of about 200 bytes, like a small business event. */
export const payloadOf = (n: number) => ({ n, note: 'x'.repeat(160) });

const unused: Transport = {
  name: 'seed',
  send: async () => {
    throw new Error('[benchmark] the seeding outbox never sends');
  },
};

/** Writes `count` committed messages into the sender's outbox, 1,000 per transaction, without sending them; with `keys`, message `n` has key `k<n % keys>`. */
export async function seedOutbox(ref: DatabaseRef, db: AnyDb, count: number, keys?: number): Promise<void> {
  const storage = storageOn(ref, db);
  const outbox = createOutbox({ store: storage.outbox, source: 'bench', sendAfterCommit: false, retention: false }).configure(MESSAGE_TYPE, { transport: unused });
  for (let i = 0; i < count; i += 1_000) {
    const inputs = Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({ type: MESSAGE_TYPE, payload: payloadOf(i + j), ...(keys ? { key: `k${(i + j) % keys}` } : {}) }));
    await outbox.transaction((tx) => outbox.addMany(tx, inputs));
  }
}

/**
 * Creates the tables of one database: messagebox's (`migrate()`) plus the
 * handler's `bench_handled` or the business table `bench_order`; for the
 * ceiling only `bench_ceiling`.
 */
export async function prepareDatabase(ref: DatabaseRef, db: AnyDb, extra: 'handled' | 'ceiling' | 'orders' | 'none'): Promise<void> {
  const table = (name: string, column: string, type: 'integer' | 'text') =>
    db.schema.createTable(name).ifNotExists().addColumn('id', 'text', (c) => c.primaryKey()).addColumn(column, type, (c) => c.notNull()).execute();
  if (extra === 'ceiling') {
    await table('bench_ceiling', 'body', 'text');
    return;
  }
  await storageOn(ref, db).migrate();
  if (extra === 'handled') await table('bench_handled', 'n', 'integer');
  if (extra === 'orders') await table('bench_order', 'n', 'integer');
}
