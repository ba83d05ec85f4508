/**
 * Run by `bun.e2e.test.ts` under Bun (`bun --conditions=@messagebox/source`):
 * an outbox sends over real HTTP with the transport `createHttpTransport`
 * picks here, to an inbox served by `Bun.serve` through core's Fetch inbox
 * handler. Prints one JSON line with what happened; the test asserts it.
 */
import {
  createInbox,
  createInboxRequestHandler,
  createMemoryInboxStore,
  createMemoryOutboxStore,
  createOutbox,
  generateWebhookSecret,
  silentLogger,
} from '@messagebox/core';
import { createHttpTransport, httpClientKind } from '../../src/index.js';

declare const Bun: { version: string; serve(options: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): { port: number; stop(force?: boolean): void } };

async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`[bun-roundtrip] timed out waiting for ${what}`);
}

const secret = generateWebhookSecret();
const inboxStore = createMemoryInboxStore();
const handled: unknown[] = [];
const inbox = createInbox({ store: inboxStore, logger: silentLogger }).on('payment.created', async (message) => {
  handled.push(message.payload);
});
const handle = createInboxRequestHandler(inbox, { secret, logger: silentLogger });
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => handle(request) });
await inbox.start();
const url = `http://127.0.0.1:${server.port}/inbox`;

const outboxStore = createMemoryOutboxStore();
const transport = createHttpTransport({ url, secret });
const batched = createHttpTransport({ url, secret, name: 'batched' });
const forged = createHttpTransport({ url, secret: generateWebhookSecret(), name: 'wrong-secret' });
const outbox = createOutbox({ store: outboxStore, source: 'bun-vault', logger: silentLogger })
  .configure('payment.created', { transport })
  .configure('payment.batched', { transport: batched, batch: { maxMessages: 10 } })
  .configure('payment.forged', { transport: forged });
inbox.on('payment.batched', async (message) => {
  handled.push(message.payload);
});

try {
  await outbox.transaction(async (tx) => {
    await outbox.add(tx, { type: 'payment.created', payload: { amount: 1 } });
    await outbox.add(tx, { type: 'payment.created', payload: { amount: 2 } });
  });
  await outbox.transaction(async (tx) => {
    for (let i = 0; i < 5; i++) await outbox.add(tx, { type: 'payment.batched', payload: { batch: i } });
  });
  await outbox.transaction((tx) => outbox.add(tx, { type: 'payment.forged', payload: { amount: 3 } }));
  await outbox.idle();
  await outbox.resendUnsentMessages();
  await until('7 handled messages', () => handled.length >= 7);
  const dead = await outboxStore.list({ status: 'dead' });
  const sent = await outboxStore.list({ status: 'sent' });
  console.log(
    JSON.stringify({
      runtime: `bun ${Bun.version}`,
      engine: httpClientKind(),
      handled,
      sent: sent.length,
      dead: dead.map((row) => ({ type: row.type, attempts: row.attempts, error: row.lastError })),
    }),
  );
} finally {
  await outbox.close();
  await inbox.stop();
  server.stop(true);
}
