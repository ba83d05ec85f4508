import { spawn, type ChildProcess } from 'node:child_process';
import { createMessage, type OutboxStore } from '@messagebox/core';
import { sleep } from '../fixtures.js';
import { startCountingReceiver, type CountingReceiver } from './counting-receiver.js';

/** Options of {@link drainWithWorkers}. */
export interface DrainOptions {
  /** The parent's own store on the same tables the workers use (seeds and watches progress). */
  store: OutboxStore<unknown>;
  /** Path of the worker script (it calls `runDrainWorker`). Run with tsx and the source condition. */
  workerScript: string;
  /** Extra environment for the workers, e.g. the database URL and table prefix. */
  env?: Record<string, string>;
  workers: number;
  messages: number;
  leaseMs: number;
  pollIntervalMs?: number;
  /** SIGKILL worker 0 once this share (0..1) of the messages has been delivered. */
  killFirstWorkerAt?: number;
  /** Give up after this long. Default 90 s. */
  timeoutMs?: number;
  /** Seed messages with ordering keys: message `n` gets key `k<n % keys>`. Default: no keys. */
  keys?: number;
  /** Share (0..1) of requests the receiver answers 500 at random. Default 0. */
  failureRate?: number;
  /** The workers' retry delay (first and every later one, no jitter cap beyond 4×). Default: the outbox's default policy. */
  retryDelayMs?: number;
  /** The workers' claim batch size. Default 100. */
  batchSize?: number;
}

/** What happened during a drain. */
export interface DrainReport {
  /** Message id → worker ids that delivered it. */
  deliveries: Map<string, string[]>;
  ids: string[];
  /** Worker ids killed with SIGKILL. */
  killed: string[];
  /** From every worker ready to the last row marked sent. */
  durationMs: number;
  messagesPerSecond: number;
  /** With `keys`: key → ids in the order they were seeded (creation order). */
  expectedByKey: Map<string, string[]>;
  /** With `keys`: key → ids in the order the receiver answered them 200. */
  byKey: Map<string, string[]>;
  /** Requests the receiver failed on purpose. */
  failed: number;
}

const TYPE = 'drain.test';

/**
 * Seeds `messages` into the outbox, starts `workers` child processes running
 * the real outbox worker against the same database, optionally kills one
 * with SIGKILL mid-run, and waits until every row is sent. Deliveries go to a
 * counting HTTP receiver on loopback.
 */
export async function drainWithWorkers(options: DrainOptions): Promise<DrainReport> {
  const { store } = options;
  const ids: string[] = [];
  const expectedByKey = new Map<string, string[]>();
  const now = new Date();
  const batch = 1_000;
  const keyOf = (n: number) => (options.keys ? `k${n % options.keys}` : undefined);
  for (let i = 0; i < options.messages; i += batch) {
    const messages = Array.from({ length: Math.min(batch, options.messages - i) }, (_, j) => {
      const key = keyOf(i + j);
      return createMessage({ type: TYPE, payload: { n: i + j }, source: 'drain-seed', ...(key ? { key } : {}) }, { now });
    });
    ids.push(...messages.map((m) => m.id));
    for (const m of messages) {
      if (m.key === undefined) continue;
      const seeded = expectedByKey.get(m.key);
      if (seeded) seeded.push(m.id);
      else expectedByKey.set(m.key, [m.id]);
    }
    await store.transaction((tx) => store.add(tx, messages));
  }

  const receiver = await startCountingReceiver(options.failureRate ? { failureRate: options.failureRate } : {});
  const children: ChildProcess[] = [];
  const killed: string[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  try {
    for (let w = 0; w < options.workers; w++) children.push(spawnWorker(options, receiver, `w${w}`));
    await Promise.all(children.map(waitReady));
    const started = Date.now();
    let lastSentAt = Date.now();
    for (;;) {
      if (options.killFirstWorkerAt !== undefined && killed.length === 0 && receiver.total() >= options.messages * options.killFirstWorkerAt) {
        children[0]!.kill('SIGKILL');
        killed.push('w0');
      }
      const stats = await store.stats();
      if (stats.pending === 0) {
        lastSentAt = Date.now();
        break;
      }
      for (const child of children) {
        if (child.exitCode !== null && !killed.includes(workerId(child))) throw new Error(`[messagebox] drain worker ${workerId(child)} exited with ${child.exitCode}`);
      }
      if (Date.now() > deadline) throw new Error(`[messagebox] drain timed out with ${stats.pending} pending, ${receiver.deliveries.size} delivered`);
      await sleep(options.killFirstWorkerAt !== undefined && killed.length === 0 ? 5 : 50);
    }
    const durationMs = lastSentAt - started;
    return {
      deliveries: new Map(receiver.deliveries),
      ids,
      killed,
      durationMs,
      messagesPerSecond: Math.round((options.messages / durationMs) * 1000),
      expectedByKey,
      byKey: new Map(receiver.byKey),
      failed: receiver.failed(),
    };
  } finally {
    await Promise.all(children.map(stopWorker));
    await receiver.close();
  }
}

const workerIds = new WeakMap<ChildProcess, string>();
const workerId = (child: ChildProcess) => workerIds.get(child) ?? '?';

function spawnWorker(options: DrainOptions, receiver: CountingReceiver, id: string): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@messagebox/source', '--import', 'tsx', options.workerScript], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      ...options.env,
      MB_WORKER_ID: id,
      MB_RECEIVER_URL: receiver.url,
      MB_MESSAGE_TYPE: TYPE,
      MB_LEASE_MS: String(options.leaseMs),
      MB_POLL_MS: String(options.pollIntervalMs ?? 100),
      ...(options.retryDelayMs !== undefined ? { MB_RETRY_MS: String(options.retryDelayMs) } : {}),
      ...(options.batchSize !== undefined ? { MB_BATCH_SIZE: String(options.batchSize) } : {}),
    },
  });
  workerIds.set(child, id);
  return child;
}

/** Starts one worker child process and resolves when it reports `ready`. */
export function startWorkerProcess(script: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=@messagebox/source', '--import', 'tsx', script], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  return waitReady(child).then(() => child);
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('[messagebox] worker did not get ready within 120 s')), 120_000);
    child.once('message', (msg) => {
      clearTimeout(timer);
      if (msg === 'ready') resolve();
      else reject(new Error(`[messagebox] unexpected message from worker: ${String(msg)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`[messagebox] worker exited with ${code} before it was ready`));
    });
  });
}

/** Asks a worker to stop gracefully; SIGKILLs it after 10 s. */
export async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
