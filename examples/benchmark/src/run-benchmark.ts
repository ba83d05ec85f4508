import { cpus, loadavg, release, totalmem } from 'node:os';
import { checkPostgres } from './databases.js';
import type { BenchmarkOptions } from './options.js';
import { runCeiling, IN_FLIGHT_PER_PROCESS, type CeilingResult } from './run-ceiling.js';
import { runDrain, type DrainResult, type RunContext } from './run-drain.js';
import { runLatency, type LatencyResult } from './run-latency.js';
import { summarize, type Summary } from './summary.js';
import { variantTable, type DrainVariant } from './variants.js';

export interface BenchmarkResults {
  benchmark: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  /** Where `@messagebox/core` resolved from: built `dist/` when run with plain node. */
  resolvedCore: string;
  options: Omit<BenchmarkOptions, 'adminUrl'>;
  inFlightPerProcess: number;
  runs: { drains: (DrainResult & { round: number })[]; ceilings: (CeilingResult & { round: number })[]; latency: (LatencyResult & { round: number })[]; full: DrainResult[] };
  summary: Summary;
}

/** Runs every variant `repeats` times, interleaved (round 1 of all, round 2 of all, …), then the `--full` drains. */
export async function runBenchmark(options: BenchmarkOptions, onRun?: (runs: BenchmarkResults['runs']) => void): Promise<BenchmarkResults> {
  const log = (line: string) => {
    if (!options.quiet) console.log(line);
  };
  const resolvedCore = typeof import.meta.resolve === 'function' ? import.meta.resolve('@messagebox/core') : 'unknown';
  if (!import.meta.url.endsWith('.ts') && !resolvedCore.includes('/dist/')) {
    throw new Error(`[benchmark] @messagebox/core resolved to ${resolvedCore}, not to built dist/ code; run it with plain node (no --conditions=@messagebox/source)`);
  }
  if (options.dialects.includes('postgres')) await checkPostgres(options.adminUrl);
  process.env.BENCH_SQLITE_SYNCHRONOUS = options.sqliteSynchronous; // every child opens its SQLite connections with it
  const startedAt = new Date();
  const loadAverageAtStart = loadavg();
  const context: RunContext = { adminUrl: options.adminUrl, timeoutMs: options.timeoutMs, log };
  const variants = options.only === 'latency' ? [] : variantTable(options);
  const runs: BenchmarkResults['runs'] = { drains: [], ceilings: [], latency: [], full: [] };
  const total = options.repeats * (variants.length + options.dialects.length);
  let step = 0;
  const started = (what: string, round: number) => log(`[benchmark] ${++step}/${total} round ${round}: ${what}`);
  for (let round = 1; round <= options.repeats; round++) {
    for (const variant of variants) {
      started(`${variant.name}, ${options.messages} messages`, round);
      if (variant.kind === 'ceiling') {
        const result = await runCeiling(variant, options.messages, context);
        log(`  ${result.perSecond} msg/s`);
        runs.ceilings.push({ ...result, round });
        onRun?.(runs);
      } else {
        const result = await runDrain(variant, options.messages, context);
        const { receiver } = result;
        log(
          `  acknowledged ${result.acknowledgedPerSecond} msg/s, handled ${result.handledPerSecond} msg/s; statements/msg sender ${result.sender.statementsPerMessage.toFixed(2)}, ` +
            `receiver ${receiver.statementsPerMessage.toFixed(2)} (receive ${receiver.receiveStatementsPerMessage.toFixed(2)}, handle ${receiver.handleStatementsPerMessage.toFixed(2)} of which the handler's own ${receiver.handlerStatementsPerMessage.toFixed(2)})`,
        );
        runs.drains.push({ ...result, round });
        onRun?.(runs);
      }
    }
    for (const dialect of options.dialects) {
      started(`${dialect} unloaded latency and enqueue overhead, ${options.latencySamples} samples`, round);
      const result = await runLatency(dialect, options.latencySamples, context);
      log(`  commit → handler start p50 ${result.commitToHandlerStartMs.p50.toFixed(2)} ms, p99 ${result.commitToHandlerStartMs.p99.toFixed(2)} ms; enqueue ×${result.enqueue.ratioP50.toFixed(2)} (the row by hand ×${result.enqueue.byHandRatioP50.toFixed(2)})`);
      runs.latency.push({ ...result, round });
      onRun?.(runs);
    }
  }
  if (options.full && options.only !== 'latency') {
    const big = options.messages * 10;
    for (const dialect of options.dialects) {
      for (const delivery of options.deliveries) {
        const senders = Math.max(...options.senders);
        const variant: DrainVariant = { kind: 'drain', name: `${dialect} ${delivery}, ${senders} sender${senders > 1 ? 's' : ''}`, dialect, senders, delivery };
        log(`[benchmark] full: ${variant.name}, ${big} messages`);
        const result = await runDrain(variant, big, { ...context, timeoutMs: options.timeoutMs * 10 });
        log(`  handled ${result.handledPerSecond} msg/s in ${(result.handledMs / 1000).toFixed(1)} s`);
        runs.full.push(result);
        onRun?.(runs);
      }
    }
  }
  const { adminUrl: _adminUrl, ...shown } = options;
  return {
    benchmark: 'messagebox end to end: outbox worker processes → signed HTTP (undici) → Hono inbox on @hono/node-server → handler with one INSERT',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${process.platform} ${release()}`,
      node: process.version,
      loadAverageAtStart,
      loadAverageAtEnd: loadavg(),
    },
    resolvedCore,
    options: shown,
    inFlightPerProcess: IN_FLIGHT_PER_PROCESS,
    runs,
    summary: summarize(runs, options),
  };
}
