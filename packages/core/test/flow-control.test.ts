import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  createMemoryOutboxStore,
  createOutbox,
  resolveBreakerOptions,
  TransportError,
  type BreakerEvent,
  type PauseEvent,
  type Transport,
} from '../src/index.js';
import { judgeAttempt } from '../src/outbox/destination-pause.js';
import { manualClock, silent } from './support.js';

const SECOND = 1_000;

describe('CircuitBreaker (state machine, injected clock)', () => {
  const breaker = (clock = manualClock()) => ({ clock, breaker: new CircuitBreaker(resolveBreakerOptions({ failureThreshold: 3, openMs: 1_000, maxOpenMs: 3_500 }, 'test'), clock) });

  it('opens after failureThreshold consecutive failures; a success in between resets the count', () => {
    const { breaker: b } = breaker();
    for (let i = 0; i < 2; i++) expect(b.record(b.admit()!, 'failure')).toBeUndefined();
    b.record(b.admit()!, 'success');
    expect(b.consecutiveFailures).toBe(0);
    for (let i = 0; i < 2; i++) b.record(b.admit()!, 'failure');
    expect(b.state).toBe('closed');
    const opened = b.record(b.admit()!, 'failure');
    expect(opened).toMatchObject({ from: 'closed', to: 'open', consecutiveFailures: 3, openMs: 1_000 });
    expect(b.state).toBe('open');
    expect(b.admit()).toBeUndefined();
  });

  it('neutral outcomes (busy, not sent) count neither way', () => {
    const { breaker: b } = breaker();
    b.record(b.admit()!, 'failure');
    b.record(b.admit()!, 'failure');
    for (let i = 0; i < 5; i++) b.record(b.admit()!, 'neutral');
    expect(b.consecutiveFailures).toBe(2);
    expect(b.state).toBe('closed');
  });

  it('half-open after openMs lets exactly one probe through; a failed probe reopens for twice as long, up to maxOpenMs', () => {
    const { clock, breaker: b } = breaker();
    for (let i = 0; i < 3; i++) b.record(b.admit()!, 'failure');
    clock.advance(999);
    expect(b.refresh()).toBeUndefined();
    expect(b.admit()).toBeUndefined();
    clock.advance(1);
    expect(b.refresh()).toMatchObject({ from: 'open', to: 'half-open' });
    expect(b.wantsProbe).toBe(true);
    const probe = b.admit()!;
    expect(probe.probe).toBe(true);
    expect(b.wantsProbe).toBe(false);
    expect(b.admit()).toBeUndefined();
    expect(b.record(probe, 'failure')).toMatchObject({ to: 'open', openMs: 2_000, until: clock.now() + 2_000 });
    clock.advance(2_000);
    expect(b.record(b.admit()!, 'failure')).toMatchObject({ to: 'open', openMs: 3_500 });
    clock.advance(3_500);
    expect(b.record(b.admit()!, 'failure')).toMatchObject({ to: 'open', openMs: 3_500 });
  });

  it('a successful probe closes it, and the next opening starts again at openMs', () => {
    const { clock, breaker: b } = breaker();
    for (let i = 0; i < 3; i++) b.record(b.admit()!, 'failure');
    clock.advance(1_000);
    b.record(b.admit()!, 'failure');
    clock.advance(2_000);
    expect(b.record(b.admit()!, 'success')).toMatchObject({ from: 'half-open', to: 'closed', consecutiveFailures: 0 });
    expect(b.state).toBe('closed');
    for (let i = 0; i < 3; i++) b.record(b.admit()!, 'failure');
    expect(b.openUntil).toBe(clock.now() + 1_000);
  });

  it('a neutral probe frees the probe slot; outcomes of attempts let through before the last change are ignored', () => {
    const { clock, breaker: b } = breaker();
    const early = b.admit()!;
    for (let i = 0; i < 3; i++) b.record(b.admit()!, 'failure');
    expect(b.record(early, 'success')).toBeUndefined();
    expect(b.state).toBe('open');
    clock.advance(1_000);
    const probe = b.admit()!;
    b.record(probe, 'neutral');
    expect(b.wantsProbe).toBe(true);
    expect(b.admit()!.probe).toBe(true);
  });

  it('bad options are refused with the option named', () => {
    expect(() => resolveBreakerOptions({ failureThreshold: 0 }, 'where')).toThrow(/where: breaker.failureThreshold must be a positive integer, got 0/);
    expect(() => resolveBreakerOptions({ failureThreshold: 2.5 }, 'where')).toThrow(/failureThreshold/);
    expect(() => resolveBreakerOptions({ openMs: -1 }, 'where')).toThrow(/breaker.openMs must be a positive number/);
    expect(() => resolveBreakerOptions({ openMs: 1_000, maxOpenMs: 10 }, 'where')).toThrow(/breaker.maxOpenMs must be a number of milliseconds >= openMs \(1000\), got 10/);
    expect(() => resolveBreakerOptions('on' as never, 'where')).toThrow(/breaker must be an object/);
    expect(resolveBreakerOptions({ openMs: 600_000 }, 'where')).toMatchObject({ openMs: 600_000, maxOpenMs: 600_000, failureThreshold: 10 });
  });
});

describe('judgeAttempt: what an attempt tells about its destination', () => {
  it('classifies', () => {
    const busy = new TransportError('busy', { status: 503, retryAfterMs: 2_000, busy: true });
    expect(judgeAttempt([undefined])).toEqual({ verdict: 'success' });
    expect(judgeAttempt([new TransportError('x', { status: 422, retryable: false })])).toEqual({ verdict: 'success' });
    expect(judgeAttempt([new TransportError('x', { status: 500 })])).toEqual({ verdict: 'failure' });
    expect(judgeAttempt([new TransportError('x', { timedOut: true })])).toEqual({ verdict: 'failure' });
    expect(judgeAttempt([new Error('ECONNREFUSED')])).toEqual({ verdict: 'failure' });
    expect(judgeAttempt([new TransportError('x', { notAttempted: true })])).toEqual({ verdict: 'neutral' });
    expect(judgeAttempt([busy, busy])).toEqual({ verdict: 'neutral', busy });
    expect(judgeAttempt([new TransportError('x', { status: 500 }), undefined])).toEqual({ verdict: 'success' });
  });
});

/** A transport whose answer the test sets; it counts its calls per message id. */
function scriptedTransport(name: string) {
  let answer: () => Error | undefined = () => undefined;
  const calls: string[] = [];
  const transport: Transport & { calls: string[]; answer(fn: () => Error | undefined): void } = {
    name,
    calls,
    async send(message) {
      calls.push(message.id);
      const error = answer();
      if (error) throw error;
    },
    answer(fn) {
      answer = fn;
    },
  };
  return transport;
}

function setup(flowControl: Parameters<typeof createOutbox>[0]['flowControl'] = {}) {
  const clock = manualClock();
  const store = createMemoryOutboxStore({ clock });
  const a = scriptedTransport('a');
  const b = scriptedTransport('b');
  // One attempt at a time, so that which attempts a pause or an opening stops is deterministic (attempts already on the wire cannot be stopped).
  const outbox = createOutbox({ store, source: 'test', clock, random: () => 0, logger: silent, concurrency: 1, sendAfterCommit: false, retention: false, retry: { initialDelayMs: 0, maxAttempts: 3 }, flowControl })
    .configure('to.a', { transport: a })
    .configure('to.b', { transport: b });
  const breakers: BreakerEvent[] = [];
  const pauses: PauseEvent[] = [];
  outbox.events.on('breaker', (e) => breakers.push(e));
  outbox.events.on('paused', (e) => pauses.push(e));
  const add = (type: string, count: number) =>
    outbox.transaction(async (tx) => {
      for (let i = 0; i < count; i++) await outbox.add(tx, { type, payload: i });
    });
  const attemptsOf = async (type: string) => (await store.list({ type, limit: 1_000 })).map((r) => r.attempts);
  return { clock, store, a, b, outbox, breakers, pauses, add, attemptsOf };
}

describe('outbox: a busy destination is paused, its refusals not counted', () => {
  it('pauses every message to the busy transport for the time asked; the other keeps flowing; attempts are not burned', async () => {
    const { clock, store, a, b, outbox, pauses, add, attemptsOf } = setup();
    a.answer(() => new TransportError('destination busy (answered 503), retry after 5 s', { status: 503, retryAfterMs: 5 * SECOND, busy: true }));
    await add('to.a', 5);
    await add('to.b', 5);
    const first = await outbox.resendUnsentMessages();
    expect(first).toMatchObject({ sent: 5, retried: 0, dead: 0 });
    expect(first.deferred).toBe(5);
    const refused = a.calls.length;
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(pauses[0]).toMatchObject({ destination: 'a', pauseMs: 5 * SECOND, askedMs: 5 * SECOND });
    expect(await attemptsOf('to.a')).toEqual([0, 0, 0, 0, 0]);
    expect(outbox.destinations().find((d) => d.destination === 'a')).toMatchObject({ breaker: 'closed', pausedUntil: new Date(clock.now() + 5 * SECOND) });

    await add('to.b', 3);
    clock.advance(4 * SECOND);
    expect(await outbox.resendUnsentMessages()).toMatchObject({ sent: 3, attempted: 3 });
    expect(a.calls.length).toBe(refused);

    a.answer(() => undefined);
    clock.advance(SECOND);
    expect(await outbox.resendUnsentMessages()).toMatchObject({ sent: 5, deferred: 0 });
    expect(await attemptsOf('to.a')).toEqual([1, 1, 1, 1, 1]);
    expect((await store.stats()).dead).toBe(0);
  });

  it('a Retry-After longer than maxPauseMs is cut to it; a busy answer never makes a message dead', async () => {
    const { clock, store, a, outbox, pauses, add } = setup({ maxPauseMs: 30 * SECOND });
    a.answer(() => new TransportError('busy', { status: 429, retryAfterMs: 10 * 3_600_000, busy: true }));
    await add('to.a', 1);
    for (let i = 0; i < 6; i++) {
      await outbox.resendUnsentMessages();
      clock.advance(30 * SECOND);
    }
    expect(a.calls.length).toBe(6);
    expect(pauses.map((p) => [p.pauseMs, p.askedMs])).toEqual(Array.from({ length: 6 }, () => [30 * SECOND, 36_000_000]));
    expect(await store.list({ type: 'to.a' })).toMatchObject([{ status: 'pending', attempts: 0 }]);
  });

  it('a Retry-After of 0 still pauses 1 s: a busy receiver cannot make the sender spin', async () => {
    const { clock, a, outbox, pauses, add } = setup();
    a.answer(() => new TransportError('busy', { status: 503, retryAfterMs: 0, busy: true }));
    await add('to.a', 3);
    await outbox.resendUnsentMessages();
    await outbox.resendUnsentMessages();
    expect(a.calls).toHaveLength(1);
    expect(pauses).toMatchObject([{ pauseMs: 1_000, askedMs: 0 }]);
    clock.advance(1_000);
    await outbox.resendUnsentMessages();
    expect(a.calls).toHaveLength(2);
  });

  it('a busy answer to a batch gives every message of it back uncounted; a half-open breaker lets one message of a batch go as the probe', async () => {
    const clock = manualClock();
    const store = createMemoryOutboxStore({ clock });
    const calls: number[] = [];
    let answer: () => unknown = () => new TransportError('busy', { status: 503, retryAfterMs: 2_000, busy: true });
    const batched: Transport = {
      name: 'peer',
      send: async () => {
        throw new Error('not used');
      },
      async sendBatch(messages) {
        calls.push(messages.length);
        const error = answer();
        return messages.map(() => (error ? { delivered: false as const, error } : { delivered: true as const }));
      },
    };
    const outbox = createOutbox({ store, source: 'test', clock, logger: silent, sendAfterCommit: false, retention: false, retry: { initialDelayMs: 0 }, flowControl: { breaker: { failureThreshold: 1, openMs: 1_000 } } })
      .configure('to.peer', { transport: batched, batch: { maxMessages: 10 } });
    await outbox.transaction(async (tx) => {
      for (let i = 0; i < 5; i++) await outbox.add(tx, { type: 'to.peer', payload: i });
    });
    expect(await outbox.resendUnsentMessages()).toMatchObject({ deferred: 5, attempted: 0 });
    expect(calls).toEqual([5]);
    expect((await store.list({})).map((r) => r.attempts)).toEqual([0, 0, 0, 0, 0]);

    answer = () => new TransportError('answered 500', { status: 500 });
    clock.advance(2_000);
    await outbox.resendUnsentMessages();
    expect(calls).toEqual([5, 5]);
    expect(outbox.destinations()[0]).toMatchObject({ breaker: 'open' });
    answer = () => undefined;
    clock.advance(1_000);
    await outbox.resendUnsentMessages();
    expect(calls).toEqual([5, 5, 1]);
    expect(outbox.destinations()[0]).toMatchObject({ breaker: 'closed' });
    await outbox.resendUnsentMessages();
    expect(calls).toEqual([5, 5, 1, 4]);
    expect(await store.stats()).toMatchObject({ sent: 5, pending: 0, dead: 0 });
  });

  it('messages claimed before the pause are given back unsent when their turn comes', async () => {
    const { store, a, outbox, add } = setup();
    let first = true;
    a.answer(() => (first ? ((first = false), new TransportError('busy', { status: 503, retryAfterMs: 60 * SECOND, busy: true })) : undefined));
    await add('to.a', 4);
    await outbox.deliver((await store.list({ type: 'to.a' })).map((r) => r.id));
    expect(a.calls.length).toBe(1);
    expect((await store.list({ type: 'to.a' })).every((r) => r.attempts === 0 && r.leaseUntil === null)).toBe(true);
  });
});

describe('outbox: a circuit breaker per destination', () => {
  it('opens after consecutive failures, stops claiming that destination while others flow, probes with one message, closes on success', async () => {
    const { clock, a, b, outbox, breakers, add, attemptsOf } = setup({ breaker: { failureThreshold: 3, openMs: 10 * SECOND, maxOpenMs: 60 * SECOND } });
    a.answer(() => new TransportError('connection refused', { retryable: true }));
    await add('to.a', 6);
    await outbox.resendUnsentMessages();
    expect(breakers).toMatchObject([{ destination: 'a', state: 'open', previous: 'closed', consecutiveFailures: 3, openMs: 10 * SECOND }]);
    expect(a.calls.length).toBe(3);
    const afterOpen = await attemptsOf('to.a');
    expect(afterOpen.reduce((x, y) => x + y, 0)).toBe(3);

    await add('to.b', 4);
    const whileOpen = await outbox.resendUnsentMessages();
    expect(whileOpen).toMatchObject({ sent: 4 });
    expect(b.calls.length).toBe(4);
    expect(a.calls.length).toBe(3);

    clock.advance(10 * SECOND);
    await outbox.resendUnsentMessages();
    expect(a.calls.length).toBe(4);
    expect(breakers.map((e) => e.state)).toEqual(['open', 'half-open', 'open']);
    expect(breakers[2]).toMatchObject({ openMs: 20 * SECOND });
    expect(outbox.destinations().find((d) => d.destination === 'a')).toMatchObject({ breaker: 'open', openUntil: new Date(clock.now() + 20 * SECOND) });

    a.answer(() => undefined);
    clock.advance(20 * SECOND);
    await outbox.resendUnsentMessages();
    expect(breakers.map((e) => e.state)).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
    await outbox.resendUnsentMessages();
    expect(await attemptsOf('to.a')).toHaveLength(6);
    expect((await outbox.store.stats())).toMatchObject({ dead: 0, pending: 0, sent: 10 });
  });

  it('4xx rejections and busy answers do not open it; breaker: false on a route turns it off for that transport', async () => {
    const { a, b, outbox, breakers, add } = setup({ breaker: { failureThreshold: 2 } });
    a.answer(() => new TransportError('answered 422', { status: 422, retryable: false }));
    await add('to.a', 4);
    await outbox.resendUnsentMessages();
    expect(a.calls.length).toBe(4);
    expect(breakers).toEqual([]);
    void b;

    const other = setup({ breaker: { failureThreshold: 2 } });
    const c = scriptedTransport('c');
    c.answer(() => new TransportError('answered 500', { status: 500 }));
    other.outbox.configure('to.c', { transport: c, breaker: false });
    await other.add('to.c', 4);
    await other.outbox.resendUnsentMessages();
    expect(c.calls.length).toBe(4);
    expect(other.breakers).toEqual([]);
    expect(other.outbox.destinations().find((d) => d.destination === 'c')).toMatchObject({ breaker: 'disabled' });
  });

  it('bad flowControl and breaker options give clear errors; routes sharing a transport share one breaker', () => {
    const store = createMemoryOutboxStore();
    expect(() => createOutbox({ store, logger: silent, flowControl: { maxPauseMs: -1 } })).toThrow(/flowControl.maxPauseMs must be a number of milliseconds >= 1000, got -1/);
    expect(() => createOutbox({ store, logger: silent, flowControl: { maxPauseMs: 10 } })).toThrow(/maxPauseMs must be a number of milliseconds >= 1000, got 10/);
    expect(() => createOutbox({ store, logger: silent, flowControl: { breaker: { failureThreshold: 0 } } })).toThrow(/createOutbox: flowControl: breaker.failureThreshold/);
    expect(() => createOutbox({ store, logger: silent, flowControl: 5 as never })).toThrow(/flowControl must be an object/);
    const t = scriptedTransport('shared');
    const outbox = createOutbox({ store, logger: silent }).configure('x', { transport: t, breaker: { failureThreshold: 3 } });
    expect(() => outbox.configure('y', { transport: t, breaker: { failureThreshold: 4 } })).toThrow(/configure\("y"\): transport "shared" already has a breaker from another route/);
    expect(() => outbox.configure('z', { transport: scriptedTransport('other'), breaker: { openMs: 0 } })).toThrow(/configure\("z"\): breaker.openMs/);
    outbox.configure('y', { transport: t });
    expect(outbox.destinations()).toMatchObject([{ destination: 'shared', types: ['x', 'y'], breaker: 'closed' }]);
  });

  it('after commit, a message to an open destination is written unclaimed and not sent; one to the other destination, in the same transaction, is sent at once', async () => {
    const clock = manualClock();
    const store = createMemoryOutboxStore({ clock });
    const a = scriptedTransport('a');
    const b = scriptedTransport('b');
    a.answer(() => new TransportError('answered 502', { status: 502 }));
    const outbox = createOutbox({ store, source: 'test', clock, logger: silent, retention: false, flowControl: { breaker: { failureThreshold: 1, openMs: 60_000 } } })
      .configure('to.a', { transport: a })
      .configure('to.b', { transport: b });
    await outbox.transaction((tx) => outbox.add(tx, { type: 'to.a', payload: 1 }));
    await outbox.idle();
    expect(outbox.destinations()[0]).toMatchObject({ destination: 'a', breaker: 'open' });
    const [later, other] = await outbox.transaction(async (tx) => [await outbox.add(tx, { type: 'to.a', payload: 2 }), await outbox.add(tx, { type: 'to.b', payload: 3 })]);
    await outbox.idle();
    expect(a.calls).toHaveLength(1);
    expect(await store.get(later.id)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
    expect(b.calls).toEqual([other.id]);
    expect(await store.get(other.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('two transports with one name are told apart', () => {
    const outbox = createOutbox({ store: createMemoryOutboxStore(), logger: silent })
      .configure('x', { transport: scriptedTransport('http') })
      .configure('y', { transport: scriptedTransport('http') });
    expect(outbox.destinations().map((d) => d.destination)).toEqual(['http', 'http#2']);
  });
});
