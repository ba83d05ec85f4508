// The order service (a child process): each order is a row written in the
// same transaction as its `order.placed` message (the outbox); the outbox
// publishes after commit and retries until the broker confirmed. Exits 0
// once every order's message is confirmed.
import { createOutbox } from '@messagebox/core';
import { createSqliteStorage } from '@messagebox/sqlite';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { orderTransport, type Topology } from './brokers.js';

interface OrderTables {
  orders: { id: string; total: number };
}

const topology = JSON.parse(process.env.TOPOLOGY!) as Topology;
const count = Number(process.env.ORDERS);
const db = new Kysely<OrderTables>({ dialect: new SqliteDialect({ database: new Database(process.env.ORDERS_DB!, { timeout: 10_000 }) }) });
const storage = createSqliteStorage({ db });
await storage.migrate();
await db.schema.createTable('orders').ifNotExists().addColumn('id', 'text', (c) => c.primaryKey()).addColumn('total', 'integer').execute();

const outbox = createOutbox({ store: storage.outbox, source: 'orders', retry: { initialDelayMs: 100, maxDelayMs: 2_000 } });
outbox.configure('order.placed', { transport: orderTransport(topology) });
await outbox.start();

for (let n = 1; n <= count; n++) {
  const order = { id: `order-${String(n).padStart(4, '0')}`, total: 10 * n };
  await outbox.transaction(async (tx) => {
    await tx.insertInto('orders').values(order).execute();
    await outbox.add(tx, { type: 'order.placed', payload: order });
  });
}
while ((await storage.outbox.stats()).pending > 0) await new Promise((resolve) => setTimeout(resolve, 50));
await outbox.close();
await db.destroy();
