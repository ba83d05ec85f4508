import { createAdaptorServer } from '@hono/node-server';
import { createInbox, createOutbox, generateWebhookSecret, isTransportError, type BreakerEvent, type InboxHandler, type Transport } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { listenOnLoopback, requireDatabase, type RunningServer } from '@messagebox/testkit';
import { createHttpTransport } from '@messagebox/transport-http';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a condition with a generous bound (a loaded machine is slow, never wrong). */
async function until(condition: () => boolean | Promise<boolean>, what: string, boundMs = 100_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Every send through `inner`, with when it started and ended and whether the answer was busy (and for how long). */
function recorded(inner: Transport) {
  const log: Array<{ id: string; start: number; end?: number; busyMs?: number; error?: string }> = [];
  const transport: Transport & { log: typeof log } = {
    name: inner.name,
    maxConcurrency: inner.maxConcurrency,
    log,
    async send(message, context) {
      const entry: (typeof log)[number] = { id: message.id, start: performance.now() };
      log.push(entry);
      try {
        await inner.send(message, context);
      } catch (error) {
        if (isTransportError(error) && error.busy) entry.busyMs = error.retryAfterMs;
        entry.error = String(error);
        throw error;
      } finally {
        entry.end = performance.now();
      }
    },
    close: () => inner.close!(),
  };
  return transport;
}

describe.runIf(reachable)('postgres → HTTP → postgres: flow control', () => {
  let database: TestDatabase;
  let prefixes = 0;
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => void (database = await createTestDatabase()));
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => database?.drop());

  async function storage(name: string, poolSize = 10) {
    const db = database.connect(poolSize);
    cleanups.push(() => db.destroy());
    const s = createPostgresStorage({ db, tablePrefix: `${name}${prefixes++}_`, listen: false });
    await s.migrate();
    return s;
  }

  /** A Hono inbox endpoint on Postgres, on `port` (0: any). */
  async function receiver(type: string, options: { handler?: InboxHandler<any>; shedLoad?: Parameters<typeof honoInbox>[1]['shedLoad']; port?: number; concurrency?: number; secret?: string } = {}) {
    const store = (await storage('rcv')).inbox;
    const secret = options.secret ?? generateWebhookSecret();
    const inbox = createInbox({ store, logger: silent, concurrency: options.concurrency ?? 4, retention: false }).on(type, options.handler ?? (() => {}));
    const app = new Hono().all('/inbox', honoInbox(inbox, { secret, logger: silent, ...(options.shedLoad ? { shedLoad: options.shedLoad } : {}) }));
    const http = createAdaptorServer({ fetch: app.fetch }) as Server;
    await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
    const server: RunningServer = await listenOnLoopback(http);
    await inbox.start();
    cleanups.push(async () => {
      await server.close();
      await inbox.stop({ timeoutMs: 5_000 });
    });
    return { store, inbox, secret, url: `${server.url}/inbox`, port: (http.address() as AddressInfo).port };
  }

  function transport(url: string, secret: string, name: string, maxConnections = 4) {
    const t = recorded(createHttpTransport({ url, secret, name, maxConnections, timeoutMs: 10_000 }));
    cleanups.push(() => t.close!());
    return t;
  }

  it('the receiver sheds load for 5 s: nothing goes dead, no attempt is burned, nothing is sent to it during a pause, the other destination keeps flowing', { timeout: 180_000 }, async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let firstShedAt: number | undefined;
    const a = await receiver('to.a', { handler: () => gate, concurrency: 2, shedLoad: { maxBacklog: 5, retryAfterSeconds: 1, backlogCheckMs: 100 } });
    a.inbox.events.on('shed', () => {
      if (firstShedAt !== undefined) return;
      firstShedAt = performance.now();
      // The receiver keeps shedding while its handlers are stuck: 5 s from the first refusal.
      setTimeout(open, 5_000);
    });
    const b = await receiver('to.b');
    const toA = transport(a.url, a.secret, 'a');
    const toB = transport(b.url, b.secret, 'b');
    const sender = await storage('snd');
    const outbox = createOutbox({ store: sender.outbox, source: 'shop', logger: silent, concurrency: 8, pollIntervalMs: 100, retention: false, retry: { initialDelayMs: 100, maxAttempts: 3 } })
      .configure('to.a', { transport: toA })
      .configure('to.b', { transport: toB });
    cleanups.push(() => outbox.stop());
    const sentB: number[] = [];
    outbox.events.on('sent', ({ message }) => void (message.type === 'to.b' && sentB.push(performance.now())));
    const add = (type: string, count: number) =>
      outbox.transaction(async (tx) => {
        for (let i = 0; i < count; i++) await outbox.add(tx, { type, payload: { i } });
      });
    await outbox.start();
    await add('to.a', 40);
    await add('to.b', 20);
    let trickled = 20;
    await until(() => firstShedAt !== undefined, 'the receiver to start shedding');
    // The other destination gets new messages all through the shedding.
    while (performance.now() - firstShedAt! < 5_000) {
      await add('to.b', 1);
      trickled++;
      await sleep(100);
    }
    await until(async () => (await sender.outbox.stats()).pending === 0, 'every message sent');

    const stats = await sender.outbox.stats();
    expect(stats).toMatchObject({ pending: 0, dead: 0, sent: 40 + trickled });
    const rows = await sender.outbox.list({ type: 'to.a', limit: 1_000 });
    expect(rows.map((r) => r.attempts)).toEqual(rows.map(() => 1));
    expect((await a.store.stats()).processed + (await a.store.stats()).received).toBe(40);

    const busy = toA.log.filter((e) => e.busyMs !== undefined);
    expect(busy.length).toBeGreaterThanOrEqual(2);
    for (const refusal of busy) {
      expect(refusal.busyMs).toBe(1_000);
      // Sends that began before this answer arrived were already on the wire; after it, none for the pause it asked for.
      const during = toA.log.filter((e) => e.start > refusal.end! + 50 && e.start < refusal.end! + refusal.busyMs!);
      expect(during, `sends to the paused destination within ${refusal.busyMs} ms of a busy answer`).toEqual([]);
    }
    const pauses = busy.map((r) => [r.end!, r.end! + r.busyMs!] as const);
    expect(sentB.filter((t) => pauses.some(([from, to]) => t > from && t < to)).length).toBeGreaterThan(0);
  });

  it('one of two destinations is down for a while: its breaker opens, the other keeps flowing, only probes reach the down one, the breaker closes once it is back', { timeout: 180_000 }, async () => {
    // A port nothing listens on (yet): the destination is down, connections are refused.
    const probe = createAdaptorServer({ fetch: () => new Response() }) as Server;
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const secretA = generateWebhookSecret();
    const toA = transport(`http://127.0.0.1:${port}/inbox`, secretA, 'a');
    const b = await receiver('to.b');
    const toB = transport(b.url, b.secret, 'b');
    const sender = await storage('snd');
    const outbox = createOutbox({
      store: sender.outbox,
      source: 'shop',
      logger: silent,
      concurrency: 8,
      pollIntervalMs: 100,
      retention: false,
      retry: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 100 },
      flowControl: { breaker: { failureThreshold: 3, openMs: 200, maxOpenMs: 800 } },
    })
      .configure('to.a', { transport: toA })
      .configure('to.b', { transport: toB });
    cleanups.push(() => outbox.stop());
    const breaker: Array<BreakerEvent & { at: number }> = [];
    outbox.events.on('breaker', (event) => void breaker.push({ ...event, at: performance.now() }));
    const add = (type: string, count: number) =>
      outbox.transaction(async (tx) => {
        for (let i = 0; i < count; i++) await outbox.add(tx, { type, payload: { i } });
      });
    await outbox.start();
    await add('to.a', 20);
    await until(() => breaker.some((e) => e.state === 'open'), 'the breaker to open');
    const openedAt = breaker.find((e) => e.state === 'open')!.at;
    expect(breaker[0]).toMatchObject({ destination: 'a', state: 'open', previous: 'closed', consecutiveFailures: 3, openMs: 200 });
    expect(outbox.destinations().find((d) => d.destination === 'a')?.breaker).not.toBe('closed');

    // While A is down, B flows: these are sent.
    await add('to.b', 30);
    await until(async () => (await sender.outbox.stats()).sent === 30, 'the other destination to deliver');
    await until(() => breaker.filter((e) => e.state === 'half-open').length >= 3, 'three probes');
    expect(breaker.filter((e) => e.state === 'open').map((e) => e.openMs)).toEqual(expect.arrayContaining([200, 400, 800]));
    expect(outbox.destinations().find((d) => d.destination === 'b')).toMatchObject({ breaker: 'closed', consecutiveFailures: 0 });

    // A comes back on its port.
    const a = await receiver('to.a', { port, secret: secretA });
    const halfOpens = breaker.filter((e) => e.state === 'half-open').length;
    await until(() => breaker.some((e) => e.state === 'closed'), 'the breaker to close');
    await until(async () => (await sender.outbox.stats()).pending === 0, 'every message sent');
    expect(await sender.outbox.stats()).toMatchObject({ pending: 0, dead: 0, sent: 50 });
    expect(breaker.at(-1)).toMatchObject({ destination: 'a', state: 'closed', previous: 'half-open' });

    // After the opening, only probes went to A (one per half-open), until it closed.
    const closedAt = breaker.find((e) => e.state === 'closed')!.at;
    const whileBroken = toA.log.filter((e) => e.start > openedAt && e.start < closedAt);
    expect(whileBroken.length).toBeLessThanOrEqual(breaker.filter((e) => e.state === 'half-open' && e.at < closedAt).length);
    expect(whileBroken.length).toBeGreaterThanOrEqual(Math.min(3, halfOpens));
    const attemptsOfA = (await sender.outbox.list({ type: 'to.a', limit: 100 })).reduce((sum, r) => sum + r.attempts, 0);
    // 20 deliveries, the failures that opened it (at most the 8 in flight then), and one per probe.
    expect(attemptsOfA).toBeLessThanOrEqual(20 + 8 + breaker.filter((e) => e.state === 'half-open').length);
  });
});
