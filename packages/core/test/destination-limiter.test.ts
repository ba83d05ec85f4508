import { describe, expect, it } from 'vitest';
import { createMemoryOutboxStore, createOutbox, MessageboxError, TransportError, type Message, type Transport } from '../src/index.js';
import { DestinationLimiter } from '../src/internal/destination-limiter.js';
import { silent } from './support.js';

const timeout = () => new TransportError('no answer within 1000 ms', { timedOut: true });
const never = new AbortController().signal;

/** Waits for a condition (generous bound), without standing in a sleep for it. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A transport whose sends stay open until the test settles them. */
function heldTransport(maxConcurrency?: number) {
  const open: Array<{ message: Message; resolve: () => void; reject: (error: Error) => void }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const transport: Transport & { open: typeof open; readonly maxInFlight: number } = {
    name: 'held',
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    open,
    get maxInFlight() {
      return maxInFlight;
    },
    send(message) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<void>((resolve, reject) => open.push({ message, resolve, reject })).finally(() => inFlight--);
    },
  };
  return transport;
}

describe('DestinationLimiter (AIMD)', () => {
  const run = (limiter: DestinationLimiter, fn: () => Promise<unknown>, maxWaitMs = 60_000, signal = never) =>
    limiter.run(fn, { signal, maxWaitMs, name: 't' });

  it('halves on a timeout once per round, adds one per success up to max, never drops below 1', async () => {
    const limiter = new DestinationLimiter(8);
    const round = Array.from({ length: 8 }, () => run(limiter, () => Promise.reject(timeout())).catch(() => undefined));
    await Promise.all(round);
    expect(limiter.limit).toBe(4);
    await run(limiter, () => Promise.reject(timeout())).catch(() => undefined);
    expect(limiter.limit).toBe(2);
    for (let i = 0; i < 3; i++) await run(limiter, () => Promise.reject(timeout())).catch(() => undefined);
    expect(limiter.limit).toBe(1);
    await run(limiter, () => Promise.reject(new TransportError('503', { status: 503 }))).catch(() => undefined);
    expect(limiter.limit).toBe(1);
    for (let i = 0; i < 20; i++) await run(limiter, () => Promise.resolve());
    expect(limiter.limit).toBe(8);
  });

  it('after a decrease, runs no more at once than the current limit', async () => {
    const limiter = new DestinationLimiter(4);
    await run(limiter, () => Promise.reject(timeout())).catch(() => undefined);
    expect(limiter.limit).toBe(2);
    const release: Array<() => void> = [];
    const seen: Array<{ running: number; limit: number }> = [];
    let running = 0;
    const all = Array.from({ length: 12 }, () =>
      run(limiter, () => {
        running++;
        seen.push({ running, limit: limiter.limit });
        return new Promise<void>((resolve) => release.push(resolve)).finally(() => running--);
      }),
    );
    await until(() => running === 2, 'two sends to start');
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toBe(2);
    while (seen.length < 12 || release.length) {
      release.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(all);
    expect(seen.every((s) => s.running <= s.limit)).toBe(true);
    expect(Math.max(...seen.map((s) => s.running))).toBeGreaterThan(2);
  });

  it('a wait that runs out, or is aborted, rejects as not attempted without calling the send', async () => {
    const limiter = new DestinationLimiter(1);
    let finish!: () => void;
    const holding = run(limiter, () => new Promise<void>((resolve) => (finish = resolve)));
    let called = 0;
    const waited = await run(limiter, async () => void called++, 20).catch((e: unknown) => e);
    expect(waited).toBeInstanceOf(TransportError);
    expect(waited).toMatchObject({ notAttempted: true, retryable: true });
    const controller = new AbortController();
    const aborted = run(limiter, async () => void called++, 60_000, controller.signal).catch((e: unknown) => e);
    controller.abort();
    expect(await aborted).toMatchObject({ notAttempted: true });
    expect(called).toBe(0);
    finish();
    await holding;
    await run(limiter, async () => void called++);
    expect(called).toBe(1);
  });

  it('an abort gives up every attempt waiting with that signal, and only those; later waits on a live signal still run', async () => {
    const limiter = new DestinationLimiter(1);
    let finish!: () => void;
    const holding = run(limiter, () => new Promise<void>((resolve) => (finish = resolve)));
    const stopping = new AbortController();
    const other = new AbortController();
    let called = 0;
    const first = run(limiter, async () => void called++, 60_000, stopping.signal).catch((e: unknown) => e);
    const second = run(limiter, async () => void called++, 60_000, stopping.signal).catch((e: unknown) => e);
    const kept = run(limiter, async () => void called++, 60_000, other.signal);
    stopping.abort();
    expect(await first).toMatchObject({ notAttempted: true });
    expect(await second).toMatchObject({ notAttempted: true });
    expect(called).toBe(0);
    const later = run(limiter, async () => void called++, 60_000, other.signal);
    finish();
    await Promise.all([holding, kept, later]);
    expect(called).toBe(2);
  });
});

describe('outbox: attempts in flight per transport', () => {
  function setup(transport: Transport, options: Partial<Parameters<typeof createOutbox>[0]> = {}) {
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'vault', logger: silent, pollIntervalMs: 3_600_000, concurrency: 32, ...options })
      .configure('payment.created', { transport })
      .configure('payment.refunded', { transport });
    return { store, outbox };
  }
  const add = (outbox: ReturnType<typeof setup>['outbox'], count: number, type = 'payment.created') =>
    outbox.transaction(async (tx) => {
      for (let i = 0; i < count; i++) await outbox.add(tx, { type, payload: i });
    });

  it('never runs more attempts at once to a transport than its maxConcurrency, across the types that share it', async () => {
    const transport = heldTransport(3);
    const { outbox, store } = setup(transport);
    await add(outbox, 10);
    await add(outbox, 10, 'payment.refunded');
    let settled = 0;
    while (settled < 20) {
      await until(() => transport.open.length > 0, 'a send');
      await new Promise((resolve) => setImmediate(resolve));
      expect(transport.open.length).toBeLessThanOrEqual(3);
      transport.open.shift()!.resolve();
      settled++;
    }
    await outbox.idle();
    expect(transport.maxInFlight).toBe(3);
    expect((await store.stats()).sent).toBe(20);
  });

  it('slows down to a transport whose attempts time out', async () => {
    const transport = heldTransport(8);
    // 12 timeouts in a row would open the circuit breaker (default threshold 10): this case is about AIMD alone.
    const { outbox, store } = setup(transport, { retry: { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000 }, flowControl: { breaker: false } });
    await add(outbox, 30);
    await until(() => transport.open.length === 8, 'eight sends');
    for (const send of transport.open.splice(0)) send.reject(timeout());
    await until(() => transport.open.length === 4, 'four sends');
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.open.length).toBe(4);
    for (const send of transport.open.splice(0)) send.reject(timeout());
    await until(() => transport.open.length === 2, 'two sends');
    let mostAfterSlowdown = 0;
    while (!(await Promise.race([outbox.idle().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5))]))) {
      mostAfterSlowdown = Math.max(mostAfterSlowdown, transport.open.length);
      transport.open.shift()?.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(mostAfterSlowdown).toBeGreaterThan(2);
    expect(mostAfterSlowdown).toBeLessThanOrEqual(8);
    expect((await store.stats()).sent).toBe(30 - 8 - 4);
  });

  it('a bad maxConcurrency is refused at configure()', () => {
    const store = createMemoryOutboxStore();
    for (const maxConcurrency of [0, 1.5, -1, Number.NaN]) {
      expect(() => createOutbox({ store, logger: silent }).configure('x', { transport: { name: 'bad', maxConcurrency, send: async () => {} } })).toThrow(
        MessageboxError,
      );
    }
  });

  it('a send that was not attempted gives the claim back: attempts not counted, no failure recorded', async () => {
    const notSent = new TransportError('no connection free within 10 ms', { notAttempted: true });
    let calls = 0;
    const transport: Transport = {
      name: 'busy',
      async send() {
        calls++;
        throw notSent;
      },
    };
    const { outbox, store } = setup(transport);
    const failed: unknown[] = [];
    outbox.events.on('failed', (e) => failed.push(e));
    outbox.events.on('dead', (e) => failed.push(e));
    const ids: string[] = [];
    await outbox.transaction(async (tx) => void ids.push((await outbox.add(tx, { type: 'payment.created', payload: 1 })).id));
    await outbox.idle();
    expect(calls).toBe(1);
    expect(await store.get(ids[0]!)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null, lastError: null });
    const report = await outbox.resendUnsentMessages({ maxMessages: 1 });
    expect(report).toMatchObject({ attempted: 0, retried: 0, dead: 0 });
    expect(calls).toBe(2);
    expect(await store.get(ids[0]!)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
    expect(failed).toEqual([]);
  });

  it('an attempt that waits for a slot longer than half the lease is given back without reaching the transport', async () => {
    const transport = heldTransport(1);
    const { outbox, store } = setup(transport, { leaseMs: 200 });
    await add(outbox, 2);
    await until(() => transport.open.length === 1, 'the first send');
    const waitingId = (await store.list({ status: 'pending' })).map((r) => r.id).find((id) => id !== transport.open[0]!.message.id)!;
    await until(async () => (await store.get(waitingId))?.leaseUntil === null, 'the waiting claim to be given back');
    expect(await store.get(waitingId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(transport.open.map((s) => s.message.id)).not.toContain(waitingId);
    transport.open.shift()!.resolve();
    await outbox.idle();
  });
});
