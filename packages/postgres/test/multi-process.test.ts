import { fileURLToPath } from 'node:url';
import { drainWithWorkers, requireDatabase, startCountingReceiver, startWorkerProcess, stopWorker, type DrainReport } from '@messagebox/testkit';
import { createMessage } from '@messagebox/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const workerScript = fileURLToPath(new URL('./fixtures/drain-worker.ts', import.meta.url));
const MESSAGES = 10_000;

describe.runIf(reachable)('postgres: several worker processes', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  const storageFor = async (tablePrefix: string) => {
    const storage = createPostgresStorage({ db: database.kysely(), tablePrefix });
    await storage.migrate();
    return storage;
  };

  it(`4 workers drain ${MESSAGES} messages, each delivered exactly once`, { timeout: 120_000 }, async () => {
    const storage = await storageFor('drain_');
    const report = await drainWithWorkers({
      store: storage.outbox,
      workerScript,
      env: { MB_DATABASE_URL: database.url, MB_TABLE_PREFIX: 'drain_' },
      workers: 4,
      messages: MESSAGES,
      leaseMs: 30_000,
    });
    console.info(`[postgres] 4 workers drained ${MESSAGES} messages in ${report.durationMs} ms: ${report.messagesPerSecond} msg/s`);
    expect(report.deliveries.size).toBe(MESSAGES);
    expect(report.ids.filter((id) => report.deliveries.get(id)?.length !== 1)).toEqual([]);
    expect(new Set([...report.deliveries.values()].flat()).size).toBeGreaterThan(1);
    expect(await storage.outbox.stats()).toMatchObject({ pending: 0, sent: MESSAGES, dead: 0 });
  });

  it('kill -9 of one worker mid-run loses nothing: its claims are taken over after the lease', { timeout: 120_000 }, async () => {
    const storage = await storageFor('kill_');
    const report = await drainWithWorkers({
      store: storage.outbox,
      workerScript,
      env: { MB_DATABASE_URL: database.url, MB_TABLE_PREFIX: 'kill_' },
      workers: 4,
      messages: MESSAGES,
      leaseMs: 4_000,
      killFirstWorkerAt: 0.3,
    });
    expect(report.killed).toEqual(['w0']);
    expectNothingLost(report);
    const retaken = (await storage.outbox.list({ limit: MESSAGES })).filter((r) => r.attempts > 1).length;
    console.info(`[postgres] after kill -9: ${retaken} messages were taken over after the lease`);
    expect(await storage.outbox.stats()).toMatchObject({ pending: 0, sent: MESSAGES, dead: 0 });
  });

  it('NOTIFY wakes a worker in another process at once, with a poll interval of one hour', { timeout: 60_000 }, async () => {
    const receiver = await startCountingReceiver();
    const deliveredWithin = async (listen: boolean, prefix: string, waitMs: number) => {
      const storage = await storageFor(prefix);
      const worker = await startWorkerProcess(workerScript, {
        MB_DATABASE_URL: database.url, MB_TABLE_PREFIX: prefix, MB_LISTEN: String(listen),
        MB_WORKER_ID: prefix, MB_RECEIVER_URL: receiver.url, MB_MESSAGE_TYPE: 'drain.test', MB_LEASE_MS: '30000', MB_POLL_MS: '3600000',
      });
      try {
        await new Promise((r) => setTimeout(r, 300));
        const message = createMessage({ type: 'drain.test', payload: { prefix }, source: 'test' }, { now: new Date() });
        await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message]));
        const deadline = Date.now() + waitMs;
        while (Date.now() < deadline && !receiver.deliveries.has(message.id)) await new Promise((r) => setTimeout(r, 10));
        return receiver.deliveries.has(message.id);
      } finally {
        await stopWorker(worker);
      }
    };
    try {
      expect(await deliveredWithin(false, 'nolisten_', 1_500)).toBe(false);
      expect(await deliveredWithin(true, 'listen_', 20_000)).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

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
