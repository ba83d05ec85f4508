import { fileURLToPath } from 'node:url';
import { requireDatabase, runMultiProcessDrainCases, startCountingReceiver, startWorkerProcess, stopWorker } from '@messagebox/testkit';
import { createMessage } from '@messagebox/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const workerScript = fileURLToPath(new URL('./fixtures/drain-worker.ts', import.meta.url));

describe.runIf(reachable)('postgres: several worker processes', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  const storageFor = async (tablePrefix: string) => {
    const storage = createPostgresStorage({ db: database.connect(), pool: false, tablePrefix });
    await storage.migrate();
    return storage;
  };

  runMultiProcessDrainCases({
    name: 'postgres',
    workerScript,
    setup: storageFor,
    workerEnv: (tablePrefix) => ({ MB_DATABASE_URL: database.url, MB_TABLE_PREFIX: tablePrefix }),
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
        await new Promise<void>((resolve) => {
          worker.on('message', (m) => m === 'claimed' && resolve());
          worker.send('claimed?');
        });
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
      // Without LISTEN the row waits for the hour-long poll (this window can only miss a bug, never fail a correct run).
      expect(await deliveredWithin(false, 'nolisten_', 1_500)).toBe(false);
      expect(await deliveredWithin(true, 'listen_', 20_000)).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});
