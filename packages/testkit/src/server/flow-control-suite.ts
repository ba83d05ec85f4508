import {
  createInbox,
  createOutbox,
  generateWebhookSecret,
  isTransportError,
  silentLogger,
  type BreakerEvent,
  type InboxReceiver,
  type InboxRequestHandlerOptions,
  type InboxStore,
  type OutboxStore,
  type ShedLoadOptions,
  type Transport,
} from '@messagebox/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { listenOnLoopback, type RunningServer } from './loopback.js';
import { unusedPort } from './recording-server.js';

/**
 * What the flow-control suite needs: real stores (the sender's and the
 * receivers'), a real inbox endpoint over HTTP, and the HTTP transport.
 *
 * @example
 * runFlowControlSuite({
 *   name: 'postgres + hono',
 *   createStorage: async () => { const s = createPostgresStorage({ db, tablePrefix: next() }); await s.migrate(); return { ...s, close: async () => {} }; },
 *   ...honoOverHttp({ Hono, createAdaptorServer, honoInbox, createHttpTransport }),
 * });
 */
export interface FlowControlHarness {
  name: string;
  /** Fresh stores with migrated tables of their own (one call per side of each case); `close` runs after the case. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createStorage(): Promise<{ outbox: OutboxStore<any>; inbox: InboxStore<any>; close(): Promise<void> }>;
  /** Serves the inbox endpoint built with `options` at `/inbox` on 127.0.0.1, on `port` (0: any). */
  serve(inbox: InboxReceiver, options: InboxRequestHandlerOptions, port: number): Promise<RunningServer>;
  /** An HTTP transport to `url` (e.g. `createHttpTransport`). */
  transport(options: { url: string; secret: string; name: string; maxConnections: number }): Transport;
}

/** A Fetch handler, as Hono's `app.fetch` and `@hono/node-server` take it. */
type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * The pieces {@link honoOverHttp} wires, passed in: testkit cannot depend on
 * `@messagebox/hono` or `@messagebox/transport-http` (their tests use testkit).
 */
export interface HonoHttpParts {
  /** `Hono` from `hono`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Hono: new () => { all(path: string, handler: any): { fetch: FetchHandler } };
  /** `createAdaptorServer` from `@hono/node-server`. */
  createAdaptorServer(options: { fetch: FetchHandler }): unknown;
  /** `honoInbox` from `@messagebox/hono`. */
  honoInbox(inbox: InboxReceiver, options: InboxRequestHandlerOptions): unknown;
  /** `createHttpTransport` from `@messagebox/transport-http`. */
  createHttpTransport(options: { url: string; secret: string; name: string; maxConnections: number; timeoutMs: number }): Transport;
}

/**
 * The `serve` and `transport` of a {@link FlowControlHarness} for a Hono
 * inbox endpoint (on `@hono/node-server`, at `/inbox` on 127.0.0.1) and the
 * HTTP transport with a 10 s deadline, so a storage's test file passes only
 * its storage.
 *
 * @example
 * import { createAdaptorServer } from '@hono/node-server';
 * import { honoInbox } from '@messagebox/hono';
 * import { createHttpTransport } from '@messagebox/transport-http';
 * import { Hono } from 'hono';
 *
 * runFlowControlSuite({ name: 'postgres + hono', createStorage, ...honoOverHttp({ Hono, createAdaptorServer, honoInbox, createHttpTransport }) });
 */
export function honoOverHttp(parts: HonoHttpParts): Pick<FlowControlHarness, 'serve' | 'transport'> {
  return {
    serve: (inbox, options, port) =>
      listenOnLoopback(parts.createAdaptorServer({ fetch: new parts.Hono().all('/inbox', parts.honoInbox(inbox, options)).fetch }) as Server, port),
    transport: (options) => parts.createHttpTransport({ ...options, timeoutMs: 10_000 }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a condition with a generous bound (a loaded machine is slow, never wrong). */
async function until(condition: () => boolean | Promise<boolean>, what: string, boundMs = 100_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Every send through `inner`, with when it started and ended and, for a busy answer, the pause it asked for. */
function recorded(inner: Transport) {
  const log: Array<{ id: string; start: number; end?: number; busyMs?: number }> = [];
  const transport: Transport & { log: typeof log } = {
    name: inner.name,
    ...(inner.maxConcurrency === undefined ? {} : { maxConcurrency: inner.maxConcurrency }),
    log,
    async send(message, context) {
      const entry: (typeof log)[number] = { id: message.id, start: performance.now() };
      log.push(entry);
      try {
        await inner.send(message, context);
      } catch (error) {
        if (isTransportError(error) && error.busy) entry.busyMs = error.retryAfterMs;
        throw error;
      } finally {
        entry.end = performance.now();
      }
    },
    close: async () => inner.close?.(),
  };
  return transport;
}

/**
 * End-to-end flow control over real stores and real HTTP: a receiver that
 * sheds load for 5 s (nothing goes dead, no attempt is burned, nothing is
 * sent to it during a pause, the other destination keeps flowing), and a
 * destination that is down for a while (its breaker opens, the other keeps
 * flowing, only probes reach it, it closes once the destination is back).
 * Each dialect's test file calls it with its storage.
 */
export function runFlowControlSuite(harness: FlowControlHarness): void {
  describe(`flow control end to end: ${harness.name}`, () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function storage() {
      const s = await harness.createStorage();
      cleanups.push(() => s.close());
      return s;
    }

    /** An inbox endpoint for `type`; `handlerLater`: no handler yet (messages are stored and wait: a backlog that stores of one connection can hold too). */
    async function receiver(type: string, options: { handlerLater?: boolean; shedLoad?: ShedLoadOptions; port?: number; secret?: string } = {}) {
      const { inbox: store } = await storage();
      const secret = options.secret ?? generateWebhookSecret();
      const inbox = createInbox({ store, logger: silentLogger, retention: false, pollIntervalMs: 100, unknownTypes: options.handlerLater ? 'accept' : 'reject' });
      if (!options.handlerLater) inbox.on(type, () => {});
      const server = await harness.serve(inbox, { secret, logger: silentLogger, ...(options.shedLoad ? { shedLoad: options.shedLoad } : {}) }, options.port ?? 0);
      await inbox.start();
      cleanups.push(async () => {
        await server.close();
        await inbox.stop({ timeoutMs: 5_000 });
      });
      return { store, inbox, secret, url: `${server.url}/inbox` };
    }

    function transport(url: string, secret: string, name: string, maxConnections = 4) {
      const t = recorded(harness.transport({ url, secret, name, maxConnections }));
      cleanups.push(async () => t.close?.());
      return t;
    }

    it('the receiver sheds load for 5 s: nothing goes dead, no attempt is burned, nothing is sent to it during a pause, the other destination keeps flowing', { timeout: 180_000 }, async () => {
      let firstShedAt: number | undefined;
      const a = await receiver('to.a', { handlerLater: true, shedLoad: { maxBacklog: 5, retryAfterSeconds: 1, backlogCheckMs: 100 } });
      a.inbox.events.on('shed', () => {
        if (firstShedAt !== undefined) return;
        firstShedAt = performance.now();
        // The receiver keeps shedding while nothing handles its backlog: 5 s from the first refusal, then its handler comes.
        setTimeout(() => a.inbox.on('to.a', () => {}), 5_000);
      });
      const b = await receiver('to.b');
      const toA = transport(a.url, a.secret, 'a');
      const toB = transport(b.url, b.secret, 'b');
      const sender = (await storage()).outbox;
      const outbox = createOutbox({ store: sender, source: 'shop', logger: silentLogger, concurrency: 8, pollIntervalMs: 100, retention: false, retry: { initialDelayMs: 100, maxAttempts: 3 } })
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
      await add('to.b', 20);
      let toBTotal = 20;
      // The backlog is read every 100 ms: a fast machine may store a first burst whole before it sees it; send until it sheds.
      let toATotal = 0;
      await until(async () => {
        if (firstShedAt !== undefined) return true;
        if (toATotal < 400) {
          await add('to.a', 20);
          toATotal += 20;
        }
        await sleep(100);
        return firstShedAt !== undefined;
      }, 'the receiver to start shedding');
      // The other destination gets new messages all through the shedding.
      while (performance.now() - firstShedAt! < 5_000) {
        await add('to.b', 1);
        toBTotal++;
        await sleep(100);
      }
      await until(async () => (await sender.stats()).pending === 0, 'every message sent');

      expect(await sender.stats()).toMatchObject({ pending: 0, dead: 0, sent: toATotal + toBTotal });
      const rows = await sender.list({ type: 'to.a', limit: 1_000 });
      // Refused attempts were given back uncounted: each message took exactly the one attempt that delivered it.
      expect(rows.map((r) => r.attempts)).toEqual(rows.map(() => 1));
      const received = await a.store.stats();
      expect(received.processed + received.received).toBe(toATotal);

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
      const port = await unusedPort();
      const secretA = generateWebhookSecret();
      const toA = transport(`http://127.0.0.1:${port}/inbox`, secretA, 'a');
      const b = await receiver('to.b');
      const toB = transport(b.url, b.secret, 'b');
      const sender = (await storage()).outbox;
      const outbox = createOutbox({
        store: sender,
        source: 'shop',
        logger: silentLogger,
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

      // While A is down, B flows: these are sent.
      await add('to.b', 30);
      await until(async () => (await sender.stats()).sent === 30, 'the other destination to deliver');
      await until(() => breaker.filter((e) => e.state === 'half-open').length >= 3, 'three probes');
      expect(breaker.filter((e) => e.state === 'open').map((e) => e.openMs)).toEqual(expect.arrayContaining([200, 400, 800]));
      expect(outbox.destinations().find((d) => d.destination === 'b')).toMatchObject({ breaker: 'closed', consecutiveFailures: 0 });

      // A comes back on its port.
      await receiver('to.a', { port, secret: secretA });
      await until(() => breaker.some((e) => e.state === 'closed'), 'the breaker to close');
      await until(async () => (await sender.stats()).pending === 0, 'every message sent');
      expect(await sender.stats()).toMatchObject({ pending: 0, dead: 0, sent: 50 });
      expect(breaker.at(-1)).toMatchObject({ destination: 'a', state: 'closed', previous: 'half-open' });

      // After the opening, only probes went to A (one per half-open), until it closed.
      const closedAt = breaker.find((e) => e.state === 'closed')!.at;
      const probes = breaker.filter((e) => e.state === 'half-open' && e.at < closedAt).length;
      const whileBroken = toA.log.filter((e) => e.start > openedAt && e.start < closedAt);
      expect(whileBroken.length).toBeLessThanOrEqual(probes);
      expect(whileBroken.length).toBeGreaterThanOrEqual(3);
      const attemptsOfA = (await sender.list({ type: 'to.a', limit: 100 })).reduce((sum, r) => sum + r.attempts, 0);
      // 20 deliveries, the failures that opened it (at most the 8 in flight then), and one per probe.
      expect(attemptsOfA).toBeLessThanOrEqual(20 + 8 + probes);
    });
  });
}
