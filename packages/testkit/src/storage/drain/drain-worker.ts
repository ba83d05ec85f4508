import { createOutbox, silentLogger, type OutboxStore, type Transport } from '@messagebox/core';

/** Settings the parent passes to a drain worker through its environment. */
export interface DrainWorkerEnv {
  MB_WORKER_ID: string;
  MB_RECEIVER_URL: string;
  MB_MESSAGE_TYPE: string;
  MB_LEASE_MS: string;
  MB_POLL_MS: string;
}

/** Reads the settings {@link drainWithWorkers} gave this child process. */
export function drainWorkerEnv(env: NodeJS.ProcessEnv = process.env): DrainWorkerEnv {
  const read = (name: keyof DrainWorkerEnv) => {
    const value = env[name];
    if (!value) throw new Error(`[messagebox] drain worker: ${name} is not set`);
    return value;
  };
  return {
    MB_WORKER_ID: read('MB_WORKER_ID'),
    MB_RECEIVER_URL: read('MB_RECEIVER_URL'),
    MB_MESSAGE_TYPE: read('MB_MESSAGE_TYPE'),
    MB_LEASE_MS: read('MB_LEASE_MS'),
    MB_POLL_MS: read('MB_POLL_MS'),
  };
}

/**
 * The body of a worker child process: runs the real outbox worker
 * (`createOutbox(...).start()`) on `store`, sending with `transport`, tells
 * the parent `ready` over IPC, and stops gracefully when the parent says `stop`.
 *
 * @example
 * // test/fixtures/drain-worker.ts
 * const env = drainWorkerEnv();
 * const storage = createPostgresStorage({ db, listen: url });
 * await runDrainWorker({ store: storage.outbox, transport: createHttpTransport({ url: env.MB_RECEIVER_URL, headers: { 'x-worker': env.MB_WORKER_ID } }), close: () => db.destroy() });
 */
export async function runDrainWorker(options: { store: OutboxStore<unknown>; transport: Transport; close?: () => Promise<void> }): Promise<void> {
  const env = drainWorkerEnv();
  const outbox = createOutbox({
    store: options.store,
    source: `drain-${env.MB_WORKER_ID}`,
    leaseMs: Number(env.MB_LEASE_MS),
    pollIntervalMs: Number(env.MB_POLL_MS),
    batchSize: process.env.MB_BATCH_SIZE ? Number(process.env.MB_BATCH_SIZE) : 100,
    concurrency: 16,
    retention: false,
    logger: process.env.MB_LOG_WARNINGS ? { ...silentLogger, warn: (f: object, m: string) => console.warn('[worker]', m, JSON.stringify(f).slice(0, 300)), error: (f: object, m: string) => console.error('[worker]', m, JSON.stringify(f).slice(0, 300)) } : silentLogger,
    // MB_RETRY_MS (optional): a short retry delay, for runs whose receiver fails on purpose.
    ...(process.env.MB_RETRY_MS ? { retry: { initialDelayMs: Number(process.env.MB_RETRY_MS), maxDelayMs: 4 * Number(process.env.MB_RETRY_MS), maxAttempts: 1_000 } } : {}),
  });
  outbox.configure(env.MB_MESSAGE_TYPE, { transport: options.transport });
  process.on('message', (msg) => {
    if (msg !== 'stop') return;
    void (async () => {
      await outbox.close();
      await options.close?.();
      process.exit(0);
    })();
  });
  await outbox.start();
  process.send?.('ready');
}
