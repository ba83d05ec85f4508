// The receiving service, "ledger": an inbox on Hono, storing messages in
// PostgreSQL (schema `ledger`) and booking each payment once.
import { serve } from '@hono/node-server';
import { createInbox } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { createPostgresStorage } from '@messagebox/postgres';
import { Hono } from 'hono';
import { databaseUrl, tellParent } from './config.js';

interface LedgerDatabase {
  entry: { payment_id: string; amount: number; currency: string };
}

const port = Number(process.env.PORT ?? 3001);
const secret = process.env.INBOX_SECRET!;

// The storage opens its own pool, guarded so that a connection Postgres ends
// fails a query instead of crashing the process; `storage.db` is Kysely on it.
const storage = createPostgresStorage<LedgerDatabase>({ connectionString: databaseUrl, poolConfig: { max: 5 }, schema: 'ledger' });
const db = storage.db;
await db.schema.createSchema('ledger').ifNotExists().execute();
await db.withSchema('ledger').schema.createTable('entry').ifNotExists()
  .addColumn('payment_id', 'text', (c) => c.primaryKey())
  .addColumn('amount', 'integer', (c) => c.notNull())
  .addColumn('currency', 'text', (c) => c.notNull())
  .execute();

await storage.migrate();

const inbox = createInbox({ store: storage.inbox, pollIntervalMs: 1_000 }).on<{ id: string; amount: number; currency: string }>(
  'payment.created',
  async (message, { tx }) => {
    const { id, amount, currency } = message.payload;
    await tx.withSchema('ledger').insertInto('entry').values({ payment_id: id, amount, currency }).execute();
    console.log(`[ledger] booked ${id}: ${amount / 100} ${currency} (message ${message.id})`);
    tellParent({ handled: id });
  },
);
inbox.events.on('duplicate', (e) => console.log(`[ledger] ${e.message.id} already stored; acknowledged, nothing new stored`));

const app = new Hono();
app.all('/inbox', honoInbox(inbox, { secret }));
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
await inbox.start();
console.log(`[ledger] inbox listening on http://127.0.0.1:${port}/inbox`);
tellParent({ ready: true });

const shutdown = async () => {
  await inbox.stop();
  server.close();
  await storage.destroy();
  process.exit(0);
};
process.on('message', (m) => m === 'stop' && void shutdown());
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
