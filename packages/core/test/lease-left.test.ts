import { describe, expect, it } from 'vitest';
import { createMemoryOutboxStore, createOutbox, type Logger, type Message, type Transport } from '../src/index.js';
import { manualClock, silent } from './support.js';

/** Records every send; the first `held` sends wait until `release()`. */
function gatedTransport(held = 1) {
  const sends: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const transport: Transport & { sends: string[]; release(): void } = {
    name: 'gated',
    sends,
    async send(message: Message) {
      sends.push(message.id);
      if (sends.length <= held) await gate;
    },
    release: () => open(),
  };
  return transport;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const count = (values: readonly string[], value: string) => values.filter((v) => v === value).length;

function recordingLogger() {
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (_fields: object, msg: string) => void lines.push({ level, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function setup(options: { concurrency?: number; held?: number } = {}) {
  const clock = manualClock();
  const store = createMemoryOutboxStore({ clock });
  const transport = gatedTransport(options.held ?? 1);
  const log = recordingLogger();
  const common = { store, source: 'vault', clock, random: () => 0.5, pollIntervalMs: 3_600_000, leaseMs: 1_000 };
  const producer = createOutbox({ ...common, logger: log.logger, concurrency: options.concurrency ?? 32 }).configure('t', { transport });
  const worker = createOutbox({ ...common, logger: silent }).configure('t', { transport });
  return { clock, store, transport, producer, worker, log };
}

describe('outbox: the lease left before an attempt', () => {
  it('the in-memory store takes an insert-time lease at insert, not at commit (like the SQL stores)', async () => {
    const { clock, store } = setup();
    const m = { id: 'm1', source: 's', type: 't', payload: 1, headers: {}, createdAt: new Date(clock.now()) };
    const inserted = clock.now();
    await store.transaction(async (tx) => {
      await store.add(tx, [m], { claim: { token: 'first', leaseMs: 1_000 } });
      clock.advance(5_000);
    });
    expect((await store.get('m1'))!.leaseUntil!.getTime()).toBe(inserted + 1_000);
    const [taken] = await store.claimDue({ limit: 10, leaseMs: 1_000, token: 'second' });
    expect(taken).toMatchObject({ id: 'm1', token: 'second', attempts: 2 });
    expect(await store.markSent([{ id: 'm1', token: 'first' }])).toEqual([]);
  });

  it('a transaction held longer than the lease is sent once while a worker runs beside it', async () => {
    const { clock, store, transport, producer, worker } = setup();
    const m = await producer.transaction(async (tx) => {
      const added = await producer.add(tx, { type: 't', payload: 1 });
      clock.advance(1_500); // the business transaction goes on after the insert, past the lease
      return added;
    });
    await until(() => transport.sends.length > 0, 'the after-commit attempt to reach the transport');
    expect(await worker.resendUnsentMessages()).toMatchObject({ attempted: 0 }); // the worker finds a live lease
    transport.release();
    await producer.idle();
    expect(count(transport.sends, m.id)).toBe(1);
    expect(await store.get(m.id)).toMatchObject({ status: 'sent' });
  });

  it('messages queued for a free slot past their lease are not sent twice when a worker took them over', async () => {
    const { clock, store, transport, producer, worker, log } = setup({ concurrency: 1 });
    const [first, second, third] = await producer.transaction(async (tx) => [
      await producer.add(tx, { type: 't', payload: 1 }),
      await producer.add(tx, { type: 't', payload: 2 }),
      await producer.add(tx, { type: 't', payload: 3 }),
    ]);
    await until(() => transport.sends.length === 1, 'the first attempt to start');
    clock.advance(1_001); // the queued ones' leases expire while the first attempt is slow
    expect(await worker.deliver([second!, third!])).toMatchObject({ attempted: 2, sent: 2 });
    transport.release();
    await producer.idle();
    for (const m of [first!, second!, third!]) {
      expect(count(transport.sends, m.id)).toBe(1);
      expect(await store.get(m.id)).toMatchObject({ status: 'sent' });
    }
    expect(log.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('a queued message whose lease ran low is claimed again with a fresh lease, then sent once', async () => {
    const { clock, store, transport, producer, worker } = setup({ concurrency: 1 });
    const [, queued] = await producer.transaction(async (tx) => [
      await producer.add(tx, { type: 't', payload: 1 }),
      await producer.add(tx, { type: 't', payload: 2 }),
    ]);
    await until(() => transport.sends.length === 1, 'the first attempt to start');
    clock.advance(600); // 400 ms of 1 000 left: below the default margin (half the lease)
    transport.release();
    await producer.idle();
    expect(await store.get(queued!.id)).toMatchObject({ status: 'sent', attempts: 1 }); // given back and claimed again: still one attempt
    expect(await worker.resendUnsentMessages()).toMatchObject({ attempted: 0 });
    expect(count(transport.sends, queued!.id)).toBe(1);
  });

  it('a claimed batch re-claims an item whose lease ran low while it waited for a slot', async () => {
    const { clock, store, transport, worker } = setup();
    const slow = createOutbox({ store, source: 'vault', clock, logger: silent, pollIntervalMs: 3_600_000, leaseMs: 1_000, concurrency: 1 }).configure('t', { transport });
    const [a, b] = await store.transaction(async (tx) => [await slow.add(tx, { type: 't', payload: 1 }), await slow.add(tx, { type: 't', payload: 2 })]);
    const pass = slow.resendUnsentMessages();
    await until(() => transport.sends.length === 1, 'the first attempt of the batch');
    clock.advance(1_001);
    const waitingId = transport.sends[0] === a!.id ? b!.id : a!.id;
    expect(await worker.deliver([waitingId])).toMatchObject({ sent: 1 });
    transport.release();
    expect(await pass).toMatchObject({ attempted: 1, sent: 1, fenced: 1 });
    expect(count(transport.sends, waitingId)).toBe(1);
  });

  it('a message whose re-claim was still in flight when stop() gave up is given back, not sent with the aborted signal', async () => {
    const clock = manualClock();
    const inner = createMemoryOutboxStore({ clock });
    let openRelease!: () => void;
    const releaseHeld = new Promise<void>((resolve) => (openRelease = resolve));
    let releases = 0;
    const store = { ...inner, release: async (claims: Parameters<typeof inner.release>[0]) => (++releases === 1 && (await releaseHeld), inner.release(claims)) };
    const transport = gatedTransport(1);
    const producer = createOutbox({ store, source: 'vault', clock, logger: silent, random: () => 0.5, pollIntervalMs: 3_600_000, leaseMs: 1_000, concurrency: 1 }).configure('t', { transport });
    const [, queued] = await producer.transaction(async (tx) => [await producer.add(tx, { type: 't', payload: 1 }), await producer.add(tx, { type: 't', payload: 2 })]);
    await until(() => transport.sends.length === 1, 'the first attempt to start');
    clock.advance(600); // the queued one's lease runs low: it is claimed again before its attempt
    transport.release();
    await until(() => releases === 1, 'the re-claim to give the claim back');
    expect(await producer.stop({ timeoutMs: 10 })).toBe(false);
    openRelease();
    await producer.idle();
    expect(transport.sends).not.toContain(queued!.id);
    expect(await store.get(queued!.id)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null, lastError: null });
  });

  it('rejects a minLeaseLeftMs that leaves no lease to send in', () => {
    const store = createMemoryOutboxStore();
    expect(() => createOutbox({ store, leaseMs: 1_000, minLeaseLeftMs: 1_000 })).toThrow(/minLeaseLeftMs/);
    expect(() => createOutbox({ store, minLeaseLeftMs: -1 })).toThrow(/minLeaseLeftMs/);
  });
});
