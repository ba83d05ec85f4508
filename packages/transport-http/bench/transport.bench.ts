// Requests per second of the HTTP transport against a minimal receiver on
// loopback, beside undici's fetch with the same pool as a baseline. Prints the
// numbers and writes them to bench-results/transport-http.json at the repo root.
import { createMessage, generateWebhookSecret } from '@messagebox/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { createHttpTransport } from '../src/index.js';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 5_000);
const IN_FLIGHT = 32;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"created"}'));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox`;
const message = createMessage({ type: 'bench', payload: { text: 'x'.repeat(256) } }, { source: 'bench', now: new Date() });

async function rate(run: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 2_000; i++) await run();
  const started = performance.now();
  for (let i = 0; i < COUNT; i += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, run));
  return Math.round(COUNT / ((performance.now() - started) / 1000));
}

const unsignedTransport = createHttpTransport({ url });
const unsigned = await rate(() => unsignedTransport.send(message, { attempt: 1 }));
const transport = createHttpTransport({ url, secret: generateWebhookSecret() });
const signed = await rate(() => transport.send(message, { attempt: 1 }));
const agent = new Agent({ connections: 10 });
const body = JSON.stringify({ type: 'bench', data: message.payload });
const fetchBaseline = await rate(async () => {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent, signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
});

const results = {
  benchmark: `HTTP transport, ${COUNT} sends, ${IN_FLIGHT} in flight, 10 sockets, loopback`,
  node: process.version,
  requestsPerSecond: { signedTransport: signed, unsignedTransport: unsigned, undiciFetchBaseline: fetchBaseline },
};
console.log(JSON.stringify(results, null, 2));
const out = join(import.meta.dirname, '../../../bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'transport-http.json'), `${JSON.stringify(results, null, 2)}\n`);
await Promise.all([transport.close?.(), unsignedTransport.close?.(), agent.close()]);
server.close();
