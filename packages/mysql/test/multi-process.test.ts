import { fileURLToPath } from 'node:url';
import { drainWithWorkers, requireDatabase, type DrainReport } from '@messagebox/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlStorage } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);
const workerScript = fileURLToPath(new URL('./fixtures/drain-worker.ts', import.meta.url));
const MESSAGES = 10_000;

describe.runIf(reachable)('mysql: several worker processes', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  const storageFor = async (tablePrefix: string) => {
    const storage = createMysqlStorage({ db: database.kysely(), tablePrefix });
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
    console.info(`[mysql] 4 workers drained ${MESSAGES} messages in ${report.durationMs} ms: ${report.messagesPerSecond} msg/s`);
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
    console.info(`[mysql] after kill -9: ${retaken} messages were taken over after the lease`);
    expect(await storage.outbox.stats()).toMatchObject({ pending: 0, sent: MESSAGES, dead: 0 });
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
