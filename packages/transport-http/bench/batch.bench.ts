// Outbox drain over HTTP, one request per message vs batched delivery
// (`batch: { maxMessages }`), against a Hono inbox endpoint in the same
// process. Both stores in memory (default: compares the delivery paths
// rather than a database) or, with BENCH_STORE=sqlite, each in a SQLite file
// of its own. Variants are interleaved and repeated; prints the median and
// range and writes bench-results/batch-delivery[-sqlite].json.
//   pnpm --filter @messagebox/transport-http bench:batch   (BENCH_MESSAGES, BENCH_RUNS, BENCH_BATCH, BENCH_STORE)
import { createAdaptorServer } from '@hono/node-server';
import {
  createInbox,
  createMemoryInboxStore,
  createMemoryOutboxStore,
  createOutbox,
  generateWebhookSecret,
  silentLogger,
  type InboxStore,
  type OutboxStore,
} from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { createSqliteStorage } from '@messagebox/sqlite';
import { listenOnLoopback } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { Kysely, SqliteDialect } from 'kysely';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpTransport } from '../src/index.js';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const SQLITE = process.env.BENCH_STORE === 'sqlite';

async function stores(): Promise<{ outbox: OutboxStore<any>; inbox: InboxStore<any>; close: () => Promise<void> }> {
  if (!SQLITE) return { outbox: createMemoryOutboxStore(), inbox: createMemoryInboxStore(), close: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'messagebox-bench-batch-'));
  const open = async (name: string) => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(join(dir, `${name}.db`)) }) });
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    return { storage, db };
  };
  const sender = await open('outbox');
  const receiver = await open('inbox');
  return {
    outbox: sender.storage.outbox,
    inbox: receiver.storage.inbox,
    close: async () => {
      await Promise.all([sender.db.destroy(), receiver.db.destroy()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function drain(batched: boolean): Promise<{ msgPerSecond: number; requests: number }> {
  const secret = generateWebhookSecret();
  const store = await stores();
  const inboxStore = store.inbox;
  const inbox = createInbox({ store: inboxStore, logger: silentLogger }).on('bench', () => {});
  let requests = 0;
  const app = new Hono()
    .use('/inbox', async (_c, next) => {
      requests++;
      await next();
    })
    .all('/inbox', honoInbox(inbox, { secret, logger: silentLogger }));
  const server = await listenOnLoopback(createAdaptorServer({ fetch: app.fetch }) as Server);
  const transport = createHttpTransport({ url: `${server.url}/inbox`, secret });
  const outbox = createOutbox({ store: store.outbox, source: 'bench', logger: silentLogger, sendAfterCommit: false }).configure('bench', {
    transport,
    ...(batched ? { batch: { maxMessages: BATCH } } : {}),
  });
  for (let i = 0; i < COUNT; i += 1_000) {
    await outbox.transaction((tx) => outbox.addMany(tx, Array.from({ length: Math.min(1_000, COUNT - i) }, (_, k) => ({ type: 'bench', payload: { i: i + k, text: 'x'.repeat(200) } }))));
  }
  const started = performance.now();
  const report = await outbox.resendUnsentMessages();
  const seconds = (performance.now() - started) / 1000;
  if (report.sent !== COUNT) throw new Error(`sent ${report.sent} of ${COUNT}: ${JSON.stringify(report)}`);
  await outbox.close();
  await inbox.stop();
  await server.close();
  await store.close();
  return { msgPerSecond: Math.round(COUNT / seconds), requests };
}

const results: Record<'perMessage' | 'batched', Array<{ msgPerSecond: number; requests: number }>> = { perMessage: [], batched: [] };
for (let run = 0; run < RUNS; run++) {
  results.perMessage.push(await drain(false));
  results.batched.push(await drain(true));
}
const summary = (runs: Array<{ msgPerSecond: number; requests: number }>) => {
  const rates = runs.map((r) => r.msgPerSecond).sort((a, b) => a - b);
  return { medianMsgPerSecond: rates[Math.floor(rates.length / 2)], min: rates[0], max: rates.at(-1), requests: runs[0]!.requests, runs: runs.map((r) => r.msgPerSecond) };
};
const output = {
  benchmark: `outbox drain of ${COUNT} messages over HTTP to a Hono inbox (both stores ${SQLITE ? 'on SQLite, one file each' : 'in memory'}, one process), per-message vs batches of ${BATCH}; ${RUNS} interleaved runs`,
  node: process.version,
  note: 'shared, noisy 2-core machine: compare the two rows of one run, not runs of different days',
  perMessage: summary(results.perMessage),
  batched: summary(results.batched),
};
console.log(JSON.stringify(output, null, 2));
const out = join(import.meta.dirname, '../../../bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, SQLITE ? 'batch-delivery-sqlite.json' : 'batch-delivery.json'), `${JSON.stringify(output, null, 2)}\n`);
