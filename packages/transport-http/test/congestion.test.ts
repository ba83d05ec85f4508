import { createMemoryOutboxStore, createMessage, createOutbox, silentLogger, TransportError, type Transport } from '@messagebox/core';
import { startRecordingServer, type RecordingServer } from '@messagebox/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../src/index.js';

let server: RecordingServer;
const cleanups: Array<() => Promise<unknown>> = [];
beforeEach(async () => {
  server = await startRecordingServer();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await server.close();
});

const transport = (options: Omit<Parameters<typeof createHttpTransport>[0], 'url'>) => {
  const t = createHttpTransport({ url: server.url, ...options });
  cleanups.push(() => t.close!());
  return t;
};
const message = () => createMessage({ type: 'order.created', source: 'shop', payload: { total: 3 } }, { now: new Date() });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const answerAfter = (ms: number) => server.respond(async (_req, res) => (await sleep(ms), res.writeHead(200).end()));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3_000; i++) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the request deadline starts when the request holds a connection', () => {
  it('requests queued behind a slow receiver do not time out while they wait', async () => {
    answerAfter(500);
    const t = transport({ maxConnections: 1, timeoutMs: 2_000, queueTimeoutMs: 120_000 });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => t.send(message(), { attempt: 1 })));
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(server.requests).toHaveLength(8);
    expect(server.maxInFlight).toBe(1);
  });

  it('a wait for a connection that runs out is not an attempt: notAttempted, and the receiver never sees it', async () => {
    const held: Array<() => void> = [];
    server.respond((_req, res) => held.push(() => res.writeHead(200).end()));
    const t = transport({ maxConnections: 1, timeoutMs: 120_000, queueTimeoutMs: 100 });
    const first = t.send(message(), { attempt: 1 });
    await until(() => held.length === 1, 'the first request');
    const error = await t.send(message(), { attempt: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ notAttempted: true, retryable: true, timedOut: false, status: undefined });
    expect((error as Error).message).toMatch(/not sent: no connection became free within 100 ms/);
    held[0]!();
    await first;
    expect(server.requests).toHaveLength(1);
  });

  it('a send aborted while it waits for a connection (shutdown) is not an attempt either', async () => {
    const held: Array<() => void> = [];
    server.respond((_req, res) => held.push(() => res.writeHead(200).end()));
    const t = transport({ maxConnections: 1 });
    const first = t.send(message(), { attempt: 1 });
    await until(() => held.length === 1, 'the first request');
    const controller = new AbortController();
    const waiting = t.send(message(), { attempt: 1, signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(await waiting).toMatchObject({ notAttempted: true, retryable: true });
    held[0]!();
    await first;
    expect(server.requests).toHaveLength(1);
  });

  it('a receiver that does not answer in time: timedOut, and counted as an attempt', async () => {
    server.respond(() => {});
    const error = await transport({ timeoutMs: 200 }).send(message(), { attempt: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ timedOut: true, notAttempted: false, retryable: true });
  });

  it('exposes maxConnections as maxConcurrency; rejects a bad queueTimeoutMs', () => {
    expect(transport({}).maxConcurrency).toBe(10);
    expect(transport({ maxConnections: 3 }).maxConcurrency).toBe(3);
    expect(() => createHttpTransport({ url: server.url, queueTimeoutMs: 0 })).toThrow(/queueTimeoutMs/);
  });
});

describe('no congestion collapse through the outbox', () => {
  function outboxTo(t: Transport, options: Partial<Parameters<typeof createOutbox>[0]> = {}) {
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'shop', logger: silentLogger, pollIntervalMs: 3_600_000, ...options }).configure('order.created', { transport: t });
    cleanups.push(() => outbox.stop());
    const failed: string[] = [];
    outbox.events.on('failed', (e) => failed.push(e.error));
    outbox.events.on('dead', (e) => failed.push(e.error));
    return { store, outbox, failed };
  }

  // timeoutMs leaves a loaded machine 1.5 s of slack over the 500 ms answer; the 7 rounds on 10 connections still take 3.5 s, which a deadline counted from the queue would not survive.
  it('a receiver answering every request in 500 ms, timeoutMs 2 000, 64 messages in flight on 10 connections: no failed attempt, each delivered once', async () => {
    answerAfter(500);
    const { store, outbox, failed } = outboxTo(transport({ timeoutMs: 2_000, maxConnections: 10 }), { concurrency: 64 });
    await outbox.transaction(async (tx) => {
      for (let i = 0; i < 64; i++) await outbox.add(tx, { type: 'order.created', payload: { i } });
    });
    await outbox.idle();
    expect(failed).toEqual([]);
    expect((await store.stats()).sent).toBe(64);
    const rows = await store.list({ status: 'sent', limit: 100 });
    expect(rows.every((row) => row.attempts === 1)).toBe(true);
    const ids = server.requests.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(64);
    expect(ids).toHaveLength(64);
    expect(server.maxInFlight).toBeLessThanOrEqual(10);
  });

  it('a receiver that stalls: the outbox halves its attempts in flight instead of refilling every slot, and climbs back once it answers', async () => {
    let stalled = true;
    server.respond((_req, res) => {
      if (!stalled) res.writeHead(200).end();
    });
    const http = transport({ timeoutMs: 300, maxConnections: 8 });
    let running = 0;
    const starts: Array<{ running: number; failedBefore: number; stalled: boolean }> = [];
    const counted: Transport = {
      name: 'counted',
      maxConcurrency: http.maxConcurrency!,
      async send(m, context) {
        running++;
        starts.push({ running, failedBefore: failed.length, stalled });
        try {
          await http.send(m, context);
        } finally {
          running--;
        }
      },
    };
    // 14 timeouts in a row would open the circuit breaker (default threshold 10; see flow-control tests): this case is about AIMD alone.
    const { store, outbox, failed } = outboxTo(counted, { concurrency: 32, retry: { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000 }, flowControl: { breaker: false } });
    await outbox.transaction(async (tx) => {
      for (let i = 0; i < 40; i++) await outbox.add(tx, { type: 'order.created', payload: { i } });
    });
    await until(() => failed.length >= 8 + 4 + 2, 'three rounds of timeouts');
    stalled = false;
    await outbox.idle();
    const whileStalled = starts.filter((s) => s.stalled);
    expect(Math.max(...whileStalled.filter((s) => s.failedBefore === 0).map((s) => s.running))).toBe(8);
    expect(Math.max(...whileStalled.filter((s) => s.failedBefore >= 1).map((s) => s.running))).toBeLessThanOrEqual(4);
    expect(Math.max(...whileStalled.filter((s) => s.failedBefore >= 8 + 4).map((s) => s.running))).toBeLessThanOrEqual(2);
    expect((await store.stats()).sent).toBe(40 - failed.length);
    expect(Math.max(...starts.filter((s) => !s.stalled).map((s) => s.running))).toBeGreaterThan(2);
  });
});
