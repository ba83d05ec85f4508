// The sending service, "vault": each payment row and its message are written
// in one PostgreSQL transaction (schema `vault`); the outbox delivers the
// message over HTTP right after commit, and its worker retries what failed.
import { createOutbox } from '@messagebox/core';
import { createPostgresStorage } from '@messagebox/postgres';
import { createHttpTransport } from '@messagebox/transport-http';
import { databaseUrl, tellParent } from './config.js';

interface VaultDatabase {
  payment: { id: string; amount: number; currency: string };
}

const inboxUrl = process.env.INBOX_URL!;
const secret = process.env.INBOX_SECRET!;
const count = Number(process.env.PAYMENTS ?? 5);

// The storage opens its own pool, guarded so that a connection Postgres ends
// fails a query instead of crashing the process; `storage.db` is Kysely on it.
// `listen` lets workers in other processes wake on NOTIFY instead of waiting for their poll.
const storage = createPostgresStorage<VaultDatabase>({ connectionString: databaseUrl, poolConfig: { max: 5 }, schema: 'vault', listen: true });
const db = storage.db;
await db.schema.createSchema('vault').ifNotExists().execute();
await db.withSchema('vault').schema.createTable('payment').ifNotExists()
  .addColumn('id', 'text', (c) => c.primaryKey())
  .addColumn('amount', 'integer', (c) => c.notNull())
  .addColumn('currency', 'text', (c) => c.notNull())
  .execute();

await storage.migrate();

const outbox = createOutbox({ store: storage.outbox, source: 'vault', pollIntervalMs: 5_000 })
  .configure('payment.created', { transport: createHttpTransport({ url: inboxUrl, secret, timeoutMs: 5_000 }) });
outbox.events.on('sent', (e) => console.log(`[vault] delivered ${e.message.id} (attempt ${e.attempts})`));
outbox.events.on('failed', (e) => console.log(`[vault] attempt ${e.attempts} failed: ${e.error}; retry in ${e.delayMs} ms`));
await outbox.start();

const run = Date.now().toString(36);
for (let i = 1; i <= count; i++) {
  const payment = { id: `pay_${run}_${i}`, amount: 1_000 * i, currency: 'EUR' };
  await outbox.transaction(async (tx) => {
    await tx.withSchema('vault').insertInto('payment').values(payment).execute();
    await outbox.add(tx, { type: 'payment.created', payload: payment });
  });
  console.log(`[vault] committed ${payment.id} and its message`);
  tellParent({ committed: payment.id });
}

for (let waited = 0; (await storage.outbox.stats()).pending > 0; waited += 100) {
  if (waited > 30_000) throw new Error('[vault] messages still pending after 30 s');
  await new Promise((r) => setTimeout(r, 100));
}
console.log('[vault] every message is marked sent');
await outbox.close();
await storage.destroy();
