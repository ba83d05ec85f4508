import type { OutboxStore } from '@messagebox/core';
import { expect, it } from 'vitest';
import { drainWithWorkers, type DrainReport } from './drain-with-workers.js';

/** Options of {@link runMultiProcessDrainCases}. */
export interface MultiProcessDrainOptions {
  /** Shown in log lines, e.g. `"postgres"`. */
  name: string;
  /** Path of the package's worker script (it calls `runDrainWorker`). */
  workerScript: string;
  /** A migrated outbox in this process on the tables that start with `tablePrefix`. */
  setup(tablePrefix: string): Promise<{ outbox: OutboxStore<unknown> }>;
  /** The environment that points a worker process at those same tables. */
  workerEnv(tablePrefix: string): Record<string, string>;
  /** Messages per drain. Default 10 000. */
  messages?: number;
  /** Messages of the ordering case (spread over 50 keys). Default 10 000. */
  orderedMessages?: number;
}

/**
 * Registers the multi-process cases with Vitest, inside the caller's
 * `describe`: four worker processes drain the outbox with every message
 * delivered exactly once, and a `kill -9` of one worker mid-run loses nothing
 * because its claims are taken over after the lease.
 *
 * @example
 * describe.runIf(reachable)('postgres: several worker processes', () => {
 *   runMultiProcessDrainCases({
 *     name: 'postgres',
 *     workerScript,
 *     setup: async (tablePrefix) => { const s = createPostgresStorage({ db, tablePrefix }); await s.migrate(); return s; },
 *     workerEnv: (tablePrefix) => ({ MB_DATABASE_URL: url, MB_TABLE_PREFIX: tablePrefix }),
 *   });
 * });
 */
export function runMultiProcessDrainCases(options: MultiProcessDrainOptions): void {
  const { name, workerScript } = options;
  const messages = options.messages ?? 10_000;

  it(`4 workers drain ${messages} messages, each delivered exactly once`, { timeout: 120_000 }, async () => {
    const storage = await options.setup('drain_');
    const report = await drainWithWorkers({
      store: storage.outbox,
      workerScript,
      env: options.workerEnv('drain_'),
      workers: 4,
      messages,
      leaseMs: 30_000,
    });
    console.info(`[${name}] 4 workers drained ${messages} messages in ${report.durationMs} ms: ${report.messagesPerSecond} msg/s`);
    expect(report.deliveries.size).toBe(messages);
    expect(report.ids.filter((id) => report.deliveries.get(id)?.length !== 1)).toEqual([]);
    expect(new Set([...report.deliveries.values()].flat()).size).toBeGreaterThan(1);
    expect(await storage.outbox.stats()).toMatchObject({ pending: 0, sent: messages, dead: 0 });
  });

  runMultiProcessOrderingCase(options);

  it('kill -9 of one worker mid-run loses nothing: its claims are taken over after the lease', { timeout: 120_000 }, async () => {
    const storage = await options.setup('kill_');
    const report = await drainWithWorkers({
      store: storage.outbox,
      workerScript,
      env: options.workerEnv('kill_'),
      workers: 4,
      messages,
      leaseMs: 4_000,
      killFirstWorkerAt: 0.3,
    });
    expect(report.killed).toEqual(['w0']);
    expectNothingLost(report);
    const retaken = (await storage.outbox.list({ limit: messages })).filter((r) => r.attempts > 1).length;
    console.info(`[${name}] after kill -9: ${retaken} messages were taken over after the lease`);
    expect(await storage.outbox.stats()).toMatchObject({ pending: 0, sent: messages, dead: 0 });
  });
}

/** Every id delivered; an id delivered twice only if the killed worker delivered it and died before marking it sent. */
function expectNothingLost(report: DrainReport): void {
  expect(report.ids.filter((id) => !report.deliveries.has(id))).toEqual([]);
  const duplicates = report.ids.filter((id) => report.deliveries.get(id)!.length > 1);
  const unexplained = duplicates.filter((id) => {
    const by = report.deliveries.get(id)!;
    return by.length !== 2 || !by.some((w) => report.killed.includes(w));
  });
  expect(unexplained).toEqual([]);
}

/**
 * Registers the multi-process ordering case with Vitest (part of
 * {@link runMultiProcessDrainCases}; call it alone for a store whose other
 * multi-process cases live elsewhere): four worker processes drain 10,000
 * messages over 50 ordering keys to a receiver over real HTTP that answers
 * 500 to 15 % of the requests at random. For every key the receiver answered
 * 200 to its messages in creation order, each message exactly once.
 *
 * @example
 * describe('sqlite: ordering across processes', () => runMultiProcessOrderingCase({ name: 'sqlite', workerScript, setup, workerEnv }));
 */
export function runMultiProcessOrderingCase(options: MultiProcessDrainOptions): void {
  const messages = options.orderedMessages ?? 10_000;
  const keys = 50;
  it(`4 workers, ${keys} keys, ${messages} messages, receiver failing 15 % at random: each key handled in creation order, each message once`, { timeout: 180_000 }, async () => {
    const storage = await options.setup('order_');
    const report = await drainWithWorkers({
      store: storage.outbox,
      workerScript: options.workerScript,
      env: options.workerEnv('order_'),
      workers: 4,
      messages,
      leaseMs: 30_000,
      pollIntervalMs: 50,
      keys,
      failureRate: 0.15,
      retryDelayMs: 5,
      // Below the number of keys: a claim that fills its limit stops early, while one that cannot (fewer free keys than
      // its limit) reads the whole waiting backlog, and on MariaDB locks it until commit (see mysqlKeyOrderMigration).
      batchSize: 20,
      timeoutMs: 170_000,
    });
    console.info(`[${options.name}] ordered drain: 4 workers, ${keys} keys, ${messages} messages in ${report.durationMs} ms (${report.messagesPerSecond} msg/s), ${report.failed} requests failed on purpose`);
    expect(report.failed).toBeGreaterThan(0);
    expect(report.ids.filter((id) => report.deliveries.get(id)?.length !== 1).map((id) => `${id} delivered ${report.deliveries.get(id)?.length ?? 0} times`)).toEqual([]);
    expect(report.expectedByKey.size).toBe(keys);
    const outOfOrder = [...report.expectedByKey].flatMap(([key, expected]) => {
      const seen = report.byKey.get(key) ?? [];
      const at = expected.findIndex((id, n) => seen[n] !== id);
      return at < 0 && seen.length === expected.length ? [] : [`${key}: at ${at} expected ${expected[at]} (#${at}), got ${seen[at]} (#${expected.indexOf(seen[at]!)})`];
    });
    expect(outOfOrder).toEqual([]);
    expect(new Set([...report.deliveries.values()].flat()).size).toBeGreaterThan(1);
    expect(await storage.outbox.stats()).toMatchObject({ pending: 0, sent: messages, dead: 0 });
  });
}
