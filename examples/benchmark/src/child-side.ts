import type { Logger } from '@messagebox/core';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Note } from './children.js';
import type { DatabaseRef, Dialect } from './databases.js';
import type { StatementCounter, StatementCounts } from './statement-counter.js';
import { subtractCounts } from './statement-counter.js';

/** Sends a note to the benchmark. */
export function tell(note: Note): void {
  process.send?.(note);
}

/** Runs `fn` for every note of `kind` from the benchmark. */
export function on(kind: string, fn: (note: Note) => unknown): void {
  process.on('message', (note: Note) => {
    if (note?.kind !== kind) return;
    Promise.resolve()
      .then(() => fn(note))
      .catch((error) => fail(error));
  });
}

/** Reports a fatal error on stderr and exits 1. */
export function fail(error: unknown): never {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}

/** A child never outlives the benchmark: it exits when the IPC channel closes. */
export function childSetup(): void {
  process.on('disconnect', () => process.exit(2));
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}

export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') fail(new Error(`[benchmark] child started without ${name}`));
  return value;
}

export function databaseFromEnv(prefix: string): DatabaseRef {
  return { dialect: env(`${prefix}_DIALECT`) as Dialect, url: env(`${prefix}_URL`) };
}

/** CPU, statements and memory of this process over a measured window. */
export interface Usage {
  cpuMs: number;
  statements: StatementCounts;
  /** Peak resident set size of the process so far, in MiB. */
  maxRssMiB: number;
  /** Heap used after a full GC at the end of the window (after the peak was read), in MiB: what stays reachable once drained. */
  heapAfterGcMiB?: number;
  /** Warnings and errors logged, by message. */
  logs: Record<string, number>;
}

/** Starts a measured window; `end()` gives what this process used since. */
export function measureWindow(counter: StatementCounter, logs: Record<string, number>) {
  const cpu = process.cpuUsage();
  const statements = counter.snapshot();
  const logsBefore = { ...logs };
  return {
    end(): Usage {
      const used = process.cpuUsage(cpu);
      const delta: Record<string, number> = {};
      for (const [k, v] of Object.entries(logs)) if (v - (logsBefore[k] ?? 0)) delta[k] = v - (logsBefore[k] ?? 0);
      const maxRssMiB = process.resourceUsage().maxRSS / 1024;
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      return {
        cpuMs: (used.user + used.system) / 1000,
        statements: subtractCounts(counter.snapshot(), statements),
        maxRssMiB,
        ...(gc ? { heapAfterGcMiB: process.memoryUsage().heapUsed / 2 ** 20 } : {}),
        logs: delta,
      };
    },
  };
}

/** A logger that counts warnings and errors by message (printed in the results) and drops the rest. */
export function countingLogger(logs: Record<string, number>): Logger {
  const count = (a: unknown, b?: unknown) => {
    const text = typeof a === 'string' ? a : typeof b === 'string' ? b : 'log';
    logs[text] = (logs[text] ?? 0) + 1;
  };
  return { debug() {}, info() {}, warn: count, error: count };
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one machine. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * With `BENCH_HEAP_EVERY=N` (children run with `--expose-gc`, see
 * children.ts): after every N messages this process has
 * handled (sent, or received), a full GC, then one line on stdout with
 * `process.memoryUsage()`, the committed size of V8's young and old
 * generations (`newSpace`, `oldSpace`) and the peak RSS so far (`maxRss`),
 * in MiB. `heapUsed` after a GC is what stays reachable: it grows with the
 * number of messages only if something is retained per message, whereas peak
 * RSS also counts garbage not yet collected and heap V8 keeps committed.
 * Call the returned function with the running count; a no-op unless asked.
 */
export function heapReporter(name: string): (count: number) => void {
  const every = Number(process.env.BENCH_HEAP_EVERY);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!every || !gc) return () => {};
  let next = every;
  return (count) => {
    if (count < next) return;
    next += every;
    gc();
    const space = (name: string) => getHeapSpaceStatistics().find((s) => s.space_name === name)?.space_size ?? 0;
    const usage = { ...process.memoryUsage(), newSpace: space('new_space'), oldSpace: space('old_space'), maxRss: process.resourceUsage().maxRSS * 1024 };
    const mib = Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, +(v / 2 ** 20).toFixed(1)]));
    console.log(`[heap] ${name} pid ${process.pid} after ${count}: ${JSON.stringify(mib)}`);
  };
}
