import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMessage, type OutboxStore } from '@messagebox/core';
import { drainWithWorkers, type DrainOptions } from './drain-with-workers.js';

/** One measured drain rate. */
export interface DrainMeasurement {
  scenario: string;
  messages: number;
  durationMs: number;
  messagesPerSecond: number;
}

/**
 * Storage alone: seeds `messages`, then `claimers` concurrent loops claim
 * batches of `batchSize` and mark them sent (one `markSent` per batch) until
 * nothing is left. No transport, one process.
 */
export async function measureStoreDrain(store: OutboxStore<unknown>, options: { messages: number; claimers?: number; batchSize?: number }): Promise<DrainMeasurement> {
  const now = new Date();
  for (let i = 0; i < options.messages; i += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, options.messages - i) }, (_, j) => createMessage({ type: 'bench', payload: { n: i + j }, source: 'bench' }, { now }));
    await store.transaction((tx) => store.add(tx, batch));
  }
  const claimers = options.claimers ?? 4;
  const batchSize = options.batchSize ?? 100;
  let sent = 0;
  let round = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: claimers }, async (_, c) => {
      for (;;) {
        const rows = await store.claimDue({ token: `bench-${c}-${round++}`, leaseMs: 60_000, limit: batchSize });
        if (rows.length === 0) return;
        const marked = await store.markSent(rows.map((r) => ({ id: r.id, token: r.token })));
        sent += marked.length;
      }
    }),
  );
  const durationMs = Math.round(performance.now() - started);
  if (sent !== options.messages) throw new Error(`[messagebox] bench: marked ${sent} of ${options.messages} messages sent`);
  return { scenario: `store only: ${claimers} claimers in one process, batches of ${batchSize}, claim + markSent`, messages: sent, durationMs, messagesPerSecond: Math.round((sent / durationMs) * 1000) };
}

/** End to end: worker processes running the outbox worker, delivering over HTTP to a loopback receiver. */
export async function measureWorkerDrain(options: Omit<DrainOptions, 'leaseMs'> & { leaseMs?: number }): Promise<DrainMeasurement> {
  const report = await drainWithWorkers({ leaseMs: 30_000, ...options });
  const missing = report.ids.filter((id) => report.deliveries.get(id)?.length !== 1).length;
  if (missing) throw new Error(`[messagebox] bench: ${missing} messages not delivered exactly once`);
  return {
    scenario: `end to end: ${options.workers} worker processes (createOutbox().start(), HTTP transport) to a node:http receiver on loopback`,
    messages: options.messages,
    durationMs: report.durationMs,
    messagesPerSecond: report.messagesPerSecond,
  };
}

/** Prints the measurements and writes them as JSON to `<dir>/<name>.json`. */
export function reportBenchmark(dir: string, name: string, measurements: DrainMeasurement[]): void {
  for (const m of measurements) console.log(`[${name}] ${m.messagesPerSecond} msg/s  (${m.messages} messages in ${m.durationMs} ms; ${m.scenario})`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ name, at: new Date().toISOString(), node: process.version, measurements }, null, 2)}\n`);
  console.log(`[${name}] written to ${file}`);
}

/** One store of a {@link runDrainBenchmark}, and how a worker process reaches it. */
export interface BenchmarkStore {
  outbox: OutboxStore<unknown>;
  /** Environment that points a worker process at this store's tables. */
  workerEnv: Record<string, string>;
  /** Called after the results are reported. */
  close?: () => Promise<unknown>;
}

/**
 * Runs both drain benchmarks (store only, then worker processes end to end)
 * on two fresh stores from `open` (`'store'`, then `'e2e'`), and reports them
 * with {@link reportBenchmark}. `messages` defaults to `BENCH_MESSAGES` or 10 000.
 *
 * @example
 * await runDrainBenchmark({
 *   name: 'postgres',
 *   resultsDir: fileURLToPath(new URL('../bench-results', import.meta.url)),
 *   workerScript: fileURLToPath(new URL('../test/fixtures/drain-worker.ts', import.meta.url)),
 *   open: async (key) => ({ outbox: await migratedOutbox(`${key}_`), workerEnv: { MB_DATABASE_URL: url, MB_TABLE_PREFIX: `${key}_` } }),
 * });
 */
export async function runDrainBenchmark(options: {
  name: string;
  resultsDir: string;
  workerScript: string;
  open(key: 'store' | 'e2e'): Promise<BenchmarkStore>;
  messages?: number;
}): Promise<void> {
  const messages = options.messages ?? Number(process.env.BENCH_MESSAGES ?? 10_000);
  const storeOnly = await options.open('store');
  const endToEnd = await options.open('e2e');
  reportBenchmark(options.resultsDir, options.name, [
    await measureStoreDrain(storeOnly.outbox, { messages }),
    await measureWorkerDrain({ store: endToEnd.outbox, workerScript: options.workerScript, env: endToEnd.workerEnv, workers: 4, messages }),
  ]);
  await storeOnly.close?.();
  await endToEnd.close?.();
}
