import { createOutbox, generateWebhookSecret } from '@messagebox/core';
import { createHttpTransport } from '@messagebox/transport-http';
import { randomUUID } from 'node:crypto';
import { countingLogger, wallNow } from './child-side.js';
import { Child } from './children.js';
import { withCleanup } from './cleanup.js';
import { connect, runDatabases, storageOn, type DatabaseRef, type Dialect } from './databases.js';
import { MESSAGE_TYPE, payloadOf, prepareDatabase } from './messages.js';
import { prepare, type RunContext } from './run-drain.js';
import { percentile } from './stats.js';

export interface LatencyResult {
  variant: string;
  samples: number;
  /** From `outbox.transaction()` resolving (committed) to the first line of the receiver's handler. */
  commitToHandlerStartMs: { p50: number; p95: number; p99: number; max: number };
  /**
   * `outbox.transaction()` that inserts a business row and `add`s a message, vs the same transaction without `add`;
   * `byHand…`: the same transaction writing the row `add` writes (same table, same columns and values) itself with
   * one more `INSERT`, the floor any outbox pays for its row in this database.
   */
  enqueue: {
    withAddP50Ms: number;
    withoutAddP50Ms: number;
    ratioP50: number;
    withAddMeanMs: number;
    withoutAddMeanMs: number;
    ratioMean: number;
    byHandP50Ms: number;
    byHandRatioP50: number;
  };
}

const WARM_UP = 20;

/**
 * The row `outbox.add` writes in `outbox.transaction()` (claimed for the
 * after-commit send: pending, leased for a minute, one attempt), written by
 * the application itself: the same table, columns and values.
 */
function handWrittenRow(n: number) {
  const now = Date.now();
  return {
    id: randomUUID(),
    source: 'bench',
    type: MESSAGE_TYPE,
    payload: JSON.stringify(payloadOf(n)),
    headers: '{}',
    created_at: now,
    status: 'pending',
    available_at: now + 60_000,
    last_error: null,
    sent_at: null,
    claim_token: randomUUID(),
    lease_until: now + 60_000,
    attempts: 1,
  };
}

/**
 * One message at a time, nothing else running: the sender (this process,
 * the outbox's after-commit path) and a receiver process. Then the enqueue
 * overhead, alternating transactions with and without `add`, each timed alone
 * (the message's delivery and handling finish before the next one starts).
 */
export async function runLatency(dialect: Dialect, samples: number, context: RunContext): Promise<LatencyResult> {
  const databases = runDatabases(dialect, ['sender', 'receiver'], context.adminUrl);
  const children: Child[] = [];
  let closeSender: (() => Promise<unknown>) | undefined;
  return withCleanup(
    async () => {
      await closeSender?.().catch(() => {});
      await Promise.all(children.map((c) => c.stop(5_000).catch(() => c.process.kill('SIGKILL'))));
      await databases.drop();
    },
    async () => {
      await databases.create();
      const { sender, receiver } = databases.refs as { sender: DatabaseRef; receiver: DatabaseRef };
      await prepare(sender, (db) => prepareDatabase(sender, db, 'orders'));
      await prepare(receiver, (db) => prepareDatabase(receiver, db, 'handled'));
      const secret = generateWebhookSecret();
      const inbox = new Child('receiver', 'receiver', {
        MB_RECEIVER_DIALECT: receiver.dialect,
        MB_RECEIVER_URL: receiver.url,
        MB_SECRET: secret,
        MB_DELIVERY: 'per-message',
        MB_REPORT_HANDLER_START: '1',
      });
      children.push(inbox);
      const { url } = await inbox.next('ready', 30_000);

      const db = connect(sender);
      const logs: Record<string, number> = {};
      const transport = createHttpTransport({ url: String(url), secret });
      const outbox = createOutbox({ store: storageOn(sender, db).outbox, source: 'bench', logger: countingLogger(logs) }).configure(MESSAGE_TYPE, { transport });
      closeSender = async () => {
        await outbox.close();
        await db.destroy();
      };
      const waitMs = 30_000;
      let n = 0;

      /** One transaction, with `add`, without, or with the outbox row written by hand; resolves with its duration, after the message (if any) was handled. */
      const transaction = async (kind: 'add' | 'none' | 'hand') => {
        const t = wallNow();
        const message = await outbox.transaction(async (tx) => {
          await tx.insertInto('bench_order').values({ id: randomUUID(), n: n++ }).execute();
          if (kind === 'hand') await tx.insertInto('messagebox_outbox').values(handWrittenRow(n)).execute();
          return kind === 'add' ? outbox.add(tx, { type: MESSAGE_TYPE, payload: payloadOf(n) }) : undefined;
        });
        const committedAt = wallNow();
        let startedAt = Number.NaN;
        if (message) {
          const start = await inbox.next('handler-start', waitMs);
          if (start.id !== message.id) throw new Error(`[benchmark] latency: handler started ${String(start.id)}, expected ${message.id}`);
          startedAt = Number(start.at);
          await inbox.next('handled', waitMs);
          await outbox.idle();
        }
        return { durationMs: committedAt - t, latencyMs: startedAt - committedAt };
      };

      const latencies: number[] = [];
      const warmUp = Math.min(WARM_UP, samples);
      for (let i = 0; i < warmUp + samples; i++) {
        const { latencyMs } = await transaction('add');
        if (i >= warmUp) latencies.push(latencyMs);
      }
      const durations = { add: [] as number[], none: [] as number[], hand: [] as number[] };
      const orders = [['add', 'none', 'hand'], ['none', 'hand', 'add'], ['hand', 'add', 'none']] as const;
      for (let i = 0; i < samples; i++) for (const kind of orders[i % 3]!) durations[kind].push((await transaction(kind)).durationMs);
      const { add: withAdd, none: withoutAdd } = durations;
      const failures = Object.entries(logs).filter(([, v]) => v > 0);
      if (failures.length) context.log(`  sender logged: ${failures.map(([k, v]) => `${v}× ${k}`).join('; ')}`);
      await closeSender();
      closeSender = undefined;
      await inbox.stop();
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      const p50With = percentile(withAdd, 50);
      const p50Without = percentile(withoutAdd, 50);
      return {
        variant: `${dialect} unloaded`,
        samples,
        commitToHandlerStartMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
        enqueue: {
          withAddP50Ms: p50With,
          withoutAddP50Ms: p50Without,
          ratioP50: p50With / p50Without,
          withAddMeanMs: mean(withAdd),
          withoutAddMeanMs: mean(withoutAdd),
          ratioMean: mean(withAdd) / mean(withoutAdd),
          byHandP50Ms: percentile(durations.hand, 50),
          byHandRatioP50: percentile(durations.hand, 50) / p50Without,
        },
      };
    },
  );
}
