// A shipping service process (main.ts starts two, sharing one inbox): the
// broker consumer stores each message in the inbox (acking only after the
// store), and the handler ships the order in the transaction that marks
// the message processed. Tells the parent `ready`; stops gracefully on SIGTERM.
import { createInbox } from '@messagebox/core';
import { createSqliteStorage } from '@messagebox/sqlite';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { shippingConsumer, type Topology } from './brokers.js';

interface ShippingTables {
  /** No unique key on purpose: an order handled twice would show as two rows. */
  shipments: { order_id: string; worker: string };
}

const topology = JSON.parse(process.env.TOPOLOGY!) as Topology;
const worker = process.env.WORKER!;
const db = new Kysely<ShippingTables>({ dialect: new SqliteDialect({ database: new Database(process.env.SHIPPING_DB!, { timeout: 10_000 }) }) });
const storage = createSqliteStorage({ db });

const inbox = createInbox({ store: storage.inbox }).on<{ id: string; total: number }>('order.placed', async (message, { tx }) => {
  await tx.insertInto('shipments').values({ order_id: message.payload.id, worker }).execute();
});
const consumer = shippingConsumer(topology, inbox);
await Promise.all([inbox.start(), consumer.start()]);
// Graceful stop, as a deployment would ask for it: no new deliveries, finish the stores and handlers in flight, close.
process.once('SIGTERM', () => {
  void (async () => {
    await consumer.stop();
    await inbox.stop();
    await db.destroy();
    process.exit(0);
  })();
});
process.send?.('ready');
