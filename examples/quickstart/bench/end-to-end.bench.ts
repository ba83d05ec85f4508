// End-to-end throughput and latency on the embedded default: outbox on SQLite →
// signed HTTP on loopback → Hono inbox on SQLite → handler. Prints the numbers
// and writes them to bench-results/quickstart-end-to-end.json at the repo root.
import { serve } from '@hono/node-server';
import { createInbox, createOutbox, generateWebhookSecret } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { createSqliteStorage } from '@messagebox/sqlite';
import { createHttpTransport } from '@messagebox/transport-http';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { Kysely, SqliteDialect } from 'kysely';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 2_000);
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), 'messagebox-bench-'));

function sqlite(name: string) {
  const database = new Database(join(dir, `${name}.sqlite`));
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  return new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database }) });
}

const secret = generateWebhookSecret();
const receiverDb = sqlite('receiver');
const receiverStorage = createSqliteStorage({ db: receiverDb });
await receiverStorage.migrate();
const handledAt = new Map<string, number>();
const inbox = createInbox({ store: receiverStorage.inbox, logger: silent }).on('bench', async (message) => {
  handledAt.set(message.id, performance.now());
});
const app = new Hono();
app.all('/inbox', honoInbox(inbox, { secret, logger: silent }));
const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
});
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox`;

const senderDb = sqlite('sender');
const senderStorage = createSqliteStorage({ db: senderDb });
await senderStorage.migrate();
const transport = createHttpTransport({ url, secret });
const outbox = createOutbox({ store: senderStorage.outbox, source: 'bench', logger: silent }).configure('bench', { transport });

// 1. Latency of one message at a time: commit → delivered → stored → handled.
const LATENCY_SAMPLES = 200;
const latencies: number[] = [];
for (let i = 0; i < LATENCY_SAMPLES; i++) {
  const t = performance.now();
  const message = await outbox.transaction((tx) => outbox.add(tx, { type: 'bench', payload: { i } }));
  await outbox.idle();
  await inbox.idle();
  latencies.push((handledAt.get(message.id) ?? Number.NaN) - t);
}
latencies.sort((a, b) => a - b);
const pct = (p: number) => +latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(2);

// 2. Throughput: one transaction per message as fast as the app commits; what the
// after-commit queue cannot hold is released to the workers (here: one resend pass).
handledAt.clear();
let released = 0;
const started = performance.now();
for (let i = 0; i < COUNT; i++) await outbox.transaction((tx) => outbox.add(tx, { type: 'bench', payload: { i } }));
const committed = performance.now();
await outbox.idle();
released = (await outbox.resendUnsentMessages()).sent;
await inbox.idle();
const finished = performance.now();
const handled = handledAt.size;

// 3. A backlog drained by one resend pass (the cron path).
const backlog = createOutbox({ store: senderStorage.outbox, source: 'bench', logger: silent, sendAfterCommit: false }).configure('bench', { transport });
await backlog.transaction(async (tx) => {
  for (let i = 0; i < COUNT; i += 500) {
    await backlog.addMany(tx, Array.from({ length: Math.min(500, COUNT - i) }, (_, j) => ({ type: 'bench', payload: { i: i + j } })));
  }
});
const drainStart = performance.now();
const report = await backlog.resendUnsentMessages();
const drainMs = performance.now() - drainStart;
await inbox.idle();

const results = {
  benchmark: 'quickstart end to end (SQLite → HTTP → SQLite, one machine, loopback)',
  messages: COUNT,
  node: process.version,
  oneAtATimeLatencyMs: { samples: LATENCY_SAMPLES, p50: pct(50), p95: pct(95), p99: pct(99), max: pct(100) },
  afterCommitThroughput: {
    handled,
    releasedToWorkers: released,
    commitsPerSecond: Math.round(COUNT / ((committed - started) / 1000)),
    deliveredAndHandledPerSecond: Math.round(COUNT / ((finished - started) / 1000)),
  },
  resendPass: { sent: report.sent, messagesPerSecond: Math.round(report.sent / (drainMs / 1000)) },
};

console.log(JSON.stringify(results, null, 2));
const out = join(import.meta.dirname, '../../../bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'quickstart-end-to-end.json'), `${JSON.stringify(results, null, 2)}\n`);

await outbox.close();
await inbox.stop();
server.close();
(server as { closeAllConnections?: () => void }).closeAllConnections?.();
await senderDb.destroy();
await receiverDb.destroy();
rmSync(dir, { recursive: true, force: true });
if (handled !== COUNT || report.sent !== COUNT) {
  console.error(`[bench] expected ${COUNT} handled and sent, got ${handled} and ${report.sent}`);
  process.exit(1);
}
