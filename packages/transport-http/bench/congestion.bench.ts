// The congestion scenario of issue 9: a receiver that answers every request
// in 500 ms, an HTTP transport with timeoutMs 1 200 on 10 connections, and
// N messages in flight through the outbox (in-memory store). Prints failed
// attempts, attempts per message and requests the receiver saw, then resends
// until every message is sent. BENCH_MESSAGES (default 64) and
// BENCH_CONCURRENCY (default: BENCH_MESSAGES) set the load.
import { createMemoryOutboxStore, createOutbox, silentLogger } from '@messagebox/core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpTransport } from '../src/index.js';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 64);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? COUNT);
const seen = new Map<string, number>();
let requests = 0;
const server = createServer((req, res) => {
  requests++;
  const id = String(req.headers['webhook-id']);
  req.resume();
  req.on('end', () =>
    setTimeout(() => {
      seen.set(id, (seen.get(id) ?? 0) + 1);
      res.writeHead(200).end();
    }, 500),
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox`;

const store = createMemoryOutboxStore();
const transport = createHttpTransport({ url, timeoutMs: 1_200, maxConnections: 10 });
const outbox = createOutbox({ store, source: 'bench', logger: silentLogger, concurrency: CONCURRENCY, retry: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 50 } }).configure(
  'bench',
  { transport },
);
let failed = 0;
let failedFirstPass = 0;
let firstPass = true;
outbox.events.on('failed', () => {
  failed++;
  if (firstPass) failedFirstPass++;
});
const started = performance.now();
await outbox.transaction(async (tx) => {
  for (let i = 0; i < COUNT; i++) await outbox.add(tx, { type: 'bench', payload: { i } });
});
await outbox.idle();
firstPass = false;
const requestsFirstPass = requests;
const sentFirstPass = (await store.stats()).sent;
while ((await store.stats()).pending > 0) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  await outbox.resendUnsentMessages();
}
const rows = await store.list({ status: 'sent', limit: COUNT });
const attempts = rows.reduce((sum, row) => sum + row.attempts, 0);
console.log(
  JSON.stringify(
    {
      scenario: `${COUNT} messages, outbox concurrency ${CONCURRENCY}, receiver 500 ms, timeoutMs 1200, 10 connections`,
      firstPass: { sent: sentFirstPass, failedAttempts: failedFirstPass, requestsReceived: requestsFirstPass },
      untilAllSent: {
        failedAttempts: failed,
        attemptsPerMessage: attempts / rows.length,
        requestsReceived: requests,
        deliveredToReceiver: seen.size,
        duplicatesAtReceiver: [...seen.values()].reduce((s, n) => s + n - 1, 0),
        seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      },
    },
    null,
    2,
  ),
);
await outbox.close();
server.close();
