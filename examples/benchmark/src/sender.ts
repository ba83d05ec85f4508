// A sending service's worker: the outbox worker (createOutbox().start())
// delivering the sender database's committed messages over the HTTP transport.
import { createOutbox } from '@messagebox/core';
import { createHttpTransport } from '@messagebox/transport-http';
import { brokerTransportFromEnv } from './broker-routes.js';
import { childSetup, countingLogger, databaseFromEnv, env, heapReporter, measureWindow, on, tell, wallNow } from './child-side.js';
import { connect, storageOn } from './databases.js';
import { MESSAGE_TYPE } from './messages.js';
import { StatementCounter } from './statement-counter.js';
import { DELIVERY_CONFIGS } from './variants.js';

childSetup();
const ref = databaseFromEnv('MB_SENDER');
const delivery = DELIVERY_CONFIGS[env('MB_DELIVERY')]!;
const counter = new StatementCounter();
const logs: Record<string, number> = {};
const db = connect(ref, counter);
const storage = storageOn(ref, db, { listen: true });
const transport = (await brokerTransportFromEnv()) ?? createHttpTransport({ url: env('MB_RECEIVER_URL'), secret: env('MB_SECRET') });
const outbox = createOutbox({ store: storage.outbox, source: 'bench', logger: countingLogger(logs) }).configure(MESSAGE_TYPE, { transport, ...delivery.route });

let sent = 0;
let lastSentAt = 0;
const reportHeap = heapReporter('sender');
outbox.events.on('sent', () => {
  sent++;
  lastSentAt = wallNow();
  reportHeap(sent);
});
let window: ReturnType<typeof measureWindow> | undefined;
const progress = setInterval(() => tell({ kind: 'progress', sent, lastSentAt }), 250);

on('go', async () => {
  window = measureWindow(counter, logs);
  await outbox.start();
});
on('stop', async () => {
  const usage = window?.end();
  clearInterval(progress);
  await outbox.close();
  await db.destroy();
  tell({ kind: 'final', usage, sent, lastSentAt });
  process.disconnect?.();
  process.exit(0);
});
tell({ kind: 'ready' });
