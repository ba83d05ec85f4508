// The receiving service: a Hono inbox served by @hono/node-server, whose
// handler inserts one row with the handler's transaction.
import { serve } from '@hono/node-server';
import { createInbox } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { startBrokerConsumerFromEnv } from './broker-routes.js';
import { childSetup, countingLogger, databaseFromEnv, env, heapReporter, measureWindow, on, tell, wallNow, type Usage } from './child-side.js';
import { connect, storageOn } from './databases.js';
import { MESSAGE_TYPE } from './messages.js';
import { StatementCounter } from './statement-counter.js';
import { DELIVERY_CONFIGS } from './variants.js';

childSetup();
const ref = databaseFromEnv('MB_RECEIVER');
const delivery = DELIVERY_CONFIGS[env('MB_DELIVERY')]!;
const reportHandlerStart = process.env.MB_REPORT_HANDLER_START === '1';
const counter = new StatementCounter();
const logs: Record<string, number> = {};
const logger = countingLogger(logs);
const db = connect(ref, counter);
const storage = storageOn(ref, db, { listen: true });

let expect = Number.POSITIVE_INFINITY;
let received = 0;
let handled = 0;
let window: ReturnType<typeof measureWindow> | undefined;

const inbox = createInbox({ store: storage.inbox, logger });
if (delivery.batchHandler) {
  inbox.onBatch<{ n: number }>(
    MESSAGE_TYPE,
    async (messages, { tx }) => {
      if (reportHandlerStart) for (const message of messages) tell({ kind: 'handler-start', id: message.id, at: wallNow() });
      await tx.insertInto('bench_handled').values(messages.map((message) => ({ id: message.id, n: message.payload.n }))).execute();
    },
    delivery.batchHandler,
  );
} else {
  inbox.on<{ n: number }>(
    MESSAGE_TYPE,
    async (message, { tx }) => {
      if (reportHandlerStart) tell({ kind: 'handler-start', id: message.id, at: wallNow() });
      await tx.insertInto('bench_handled').values({ id: message.id, n: message.payload.n }).execute();
    },
    delivery.handler,
  );
}
inbox.events.on('received', () => {
  if (++received === expect) tell({ kind: 'received-all', at: wallNow() });
});
const reportHeap = heapReporter('receiver');
inbox.events.on('handled', ({ message }) => {
  if (reportHandlerStart) tell({ kind: 'handled', id: message.id });
  if (++handled === expect) tell({ kind: 'handled-all', at: wallNow() });
  reportHeap(handled);
});

const app = new Hono();
app.all('/inbox', honoInbox(inbox, { secret: env('MB_SECRET'), logger }));
const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
});
await inbox.start();
const stopBrokerConsumer = await startBrokerConsumerFromEnv(inbox);
const progress = setInterval(() => tell({ kind: 'progress', received, handled }), 250);

on('measure', (note) => {
  expect = Number(note.expect);
  received = 0;
  handled = 0;
  window = measureWindow(counter, logs);
  tell({ kind: 'measuring' });
});
on('stop', async () => {
  const usage: Usage | undefined = window?.end();
  clearInterval(progress);
  await stopBrokerConsumer?.();
  await inbox.stop({ timeoutMs: 5_000 });
  server.close();
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  await db.destroy();
  tell({ kind: 'final', usage, received, handled });
  process.disconnect?.();
  process.exit(0);
});
tell({ kind: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox` });
