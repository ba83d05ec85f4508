import { describe, expect, it } from 'vitest';
import {
  createMemoryOutboxStore,
  createOutbox,
  MessageboxError,
  TransportError,
  type Message,
  type SendBatchContext,
  type SendOutcome,
  type Transport,
} from '../src/index.js';
import { manualClock, silent } from './support.js';

/** A transport with `sendBatch` that records every call; `outcomeFor` decides each message's outcome. */
function batchTransport(options: { maxConcurrency?: number; outcomeFor?: (message: Message) => SendOutcome; hold?: Promise<void> } = {}) {
  const batches: Array<{ ids: string[]; attempts: readonly number[] }> = [];
  const singles: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const transport: Transport & { batches: typeof batches; singles: string[]; readonly maxInFlight: number } = {
    name: 'batching',
    batches,
    singles,
    get maxInFlight() {
      return maxInFlight;
    },
    ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
    async send(message) {
      singles.push(message.id);
      const outcome = options.outcomeFor?.(message) ?? { delivered: true };
      if (!outcome.delivered) throw outcome.error;
    },
    async sendBatch(messages: readonly Message[], context: SendBatchContext) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      batches.push({ ids: messages.map((m) => m.id), attempts: context.attempts });
      try {
        await options.hold;
        await new Promise((resolve) => setImmediate(resolve));
        return messages.map((m) => options.outcomeFor?.(m) ?? { delivered: true });
      } finally {
        inFlight--;
      }
    },
  };
  return transport;
}

function setup(transport: Transport, route: { batch?: { maxMessages?: number; maxBytes?: number } | false } = { batch: { maxMessages: 100 } }, extra: Record<string, unknown> = {}) {
  const clock = manualClock();
  const store = createMemoryOutboxStore({ clock });
  const outbox = createOutbox({ store, source: 'vault', clock, random: () => 0.5, logger: silent, sendAfterCommit: false, batchSize: 100, ...extra }).configure('t', {
    transport,
    ...route,
  });
  const add = async (n: number, payload: (i: number) => unknown = (i) => ({ i })) =>
    outbox.transaction((tx) => outbox.addMany(tx, Array.from({ length: n }, (_, i) => ({ type: 't', payload: payload(i) as never }))));
  return { clock, store, outbox, add };
}

/** Waits for a condition with a generous bound (a loaded machine is slow), without a sleep standing in for it. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 4_000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('outbox: batched delivery', () => {
  it('configure() validates batch and needs a transport with sendBatch', () => {
    const { outbox } = setup(batchTransport(), {});
    const plain: Transport = { name: 'plain', send: async () => {} };
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const noBatch = refusal(() => outbox.configure('a', { transport: plain, batch: { maxMessages: 10 } }));
    expect(noBatch).toBeInstanceOf(MessageboxError);
    expect(noBatch).toMatchObject({ code: 'invalid_options', message: expect.stringContaining('sendBatch') });
    for (const batch of [{ maxMessages: 0 }, { maxMessages: 1.5 }, { maxBytes: -1 }, { maxBytes: Number.NaN }, 'yes']) {
      expect(refusal(() => outbox.configure('b', { transport: batchTransport(), batch: batch as never }))).toMatchObject({ code: 'invalid_options' });
    }
    expect(outbox.types()).toEqual(['t']);
    outbox.configure('c', { transport: plain, batch: false });
    expect(outbox.types()).toEqual(['t', 'c']);
  });

  it('a drain hands claimed messages to sendBatch in chunks of maxMessages; every message is sent once', async () => {
    const transport = batchTransport();
    const { outbox, store, add } = setup(transport, { batch: { maxMessages: 40 } });
    const messages = await add(250);
    const report = await outbox.resendUnsentMessages();
    expect(report).toMatchObject({ attempted: 250, sent: 250, retried: 0, dead: 0 });
    expect(transport.singles).toEqual([]);
    expect(transport.batches.every((b) => b.ids.length <= 40)).toBe(true);
    expect(transport.batches.length).toBeLessThanOrEqual(Math.ceil(250 / 40) + 3);
    expect(transport.batches.flatMap((b) => b.attempts).every((a) => a === 1)).toBe(true);
    expect(transport.batches.flatMap((b) => b.ids).sort()).toEqual(messages.map((m) => m.id).sort());
    expect((await store.stats()).sent).toBe(250);
  });

  it('after commit, the messages of one transaction go in one batch', async () => {
    const transport = batchTransport();
    const { outbox, add } = setup(transport, { batch: { maxMessages: 100 } }, { sendAfterCommit: true });
    const messages = await add(30);
    await outbox.idle();
    expect(transport.batches).toHaveLength(1);
    expect(transport.batches[0]!.ids).toEqual(messages.map((m) => m.id));
    expect(transport.singles).toEqual([]);
    expect((await outbox.store.stats()).sent).toBe(30);
  });

  it('after commit, transactions that commit together share batches', async () => {
    const transport = batchTransport();
    const { outbox, store } = setup(transport, { batch: { maxMessages: 8 } }, { sendAfterCommit: true });
    const messages = await Promise.all(Array.from({ length: 20 }, () => outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: 1 }))));
    await outbox.idle();
    expect(transport.batches.length).toBeLessThan(20);
    expect(transport.batches.every((b) => b.ids.length <= 8)).toBe(true);
    expect(transport.batches.flatMap((b) => b.ids).sort()).toEqual(messages.map((m) => m.id).sort());
    expect((await store.stats()).sent).toBe(20);
  });

  it('without batch on the route, a transport with sendBatch still gets one send per message', async () => {
    const transport = batchTransport();
    const { outbox, add } = setup(transport, {});
    await add(5);
    expect(await outbox.resendUnsentMessages()).toMatchObject({ sent: 5 });
    expect(transport.batches).toEqual([]);
    expect(transport.singles).toHaveLength(5);
  });

  it('maxBytes bounds the serialized size of a chunk; a message over it alone is sent by send()', async () => {
    const transport = batchTransport();
    const { outbox, add } = setup(transport, { batch: { maxMessages: 100, maxBytes: 2_000 } });
    const messages = await add(12, (i) => ({ filler: 'x'.repeat(i === 5 ? 3_000 : 300) }));
    expect(await outbox.resendUnsentMessages()).toMatchObject({ sent: 12 });
    expect(transport.singles).toEqual([messages[5]!.id]);
    for (const batch of transport.batches) expect(batch.ids.length).toBeLessThanOrEqual(4);
    expect(transport.batches.flatMap((b) => b.ids)).toHaveLength(11);
  });

  it('settles each message of a batch on its own: sent, retried, dead, given back', async () => {
    const outcomeFor = (message: Message): SendOutcome => {
      const i = (message.payload as { i: number }).i % 4;
      if (i === 0) return { delivered: true };
      if (i === 1) return { delivered: false, error: new TransportError('busy', { retryable: true, status: 503, retryAfterMs: 60_000 }) };
      if (i === 2) return { delivered: false, error: new TransportError('invalid', { retryable: false, status: 422 }) };
      return { delivered: false, error: new TransportError('not sent', { notAttempted: true }) };
    };
    const transport = batchTransport({ outcomeFor });
    const { outbox, store, add } = setup(transport);
    const messages = await add(8);
    const report = await outbox.resendUnsentMessages();
    expect(transport.batches).toHaveLength(1);
    expect(report).toMatchObject({ attempted: 6, sent: 2, retried: 2, dead: 2 });
    const rows = await Promise.all(messages.map((m) => store.get(m.id)));
    rows.forEach((row, i) => {
      if (i % 4 === 0) expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      if (i % 4 === 1) expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('busy') });
      if (i % 4 === 2) expect(row).toMatchObject({ status: 'dead', lastError: expect.stringContaining('invalid') });
      if (i % 4 === 3) expect(row).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
    });
  });

  it('a rejecting sendBatch, or one with the wrong number of outcomes, fails every message retryably', async () => {
    for (const broken of [async () => Promise.reject(new Error('socket hang up')), async () => [{ delivered: true }] as SendOutcome[]]) {
      const transport: Transport = { name: 'broken', send: async () => {}, sendBatch: broken };
      const { outbox, store, add } = setup(transport);
      const messages = await add(3);
      expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: 3, sent: 0, retried: 3 });
      for (const m of messages) expect(await store.get(m.id)).toMatchObject({ status: 'pending', attempts: 1 });
    }
  });

  it('a batch holds one slot of its transport: never more calls in flight than maxConcurrency', async () => {
    let open!: () => void;
    const hold = new Promise<void>((resolve) => (open = resolve));
    const transport = batchTransport({ maxConcurrency: 2, hold });
    const { outbox, add } = setup(transport, { batch: { maxMessages: 10 } }, { concurrency: 8 });
    await add(100);
    const drain = outbox.resendUnsentMessages();
    await until(() => transport.batches.length >= 2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.batches).toHaveLength(2);
    open();
    expect(await drain).toMatchObject({ sent: 100 });
    expect(transport.maxInFlight).toBe(2);
    expect(transport.batches.length).toBe(10);
  });

  it('checks each lease right before the batch is sent, inside the transport slot: messages another worker took meanwhile are not sent', async () => {
    let open!: () => void;
    const hold = new Promise<void>((resolve) => (open = resolve));
    const transport = batchTransport({ maxConcurrency: 1, hold });
    const { outbox, store, clock, add } = setup(transport, { batch: { maxMessages: 5 } }, { leaseMs: 1_000 });
    const messages = await add(10);
    const drain = outbox.resendUnsentMessages();
    await until(() => transport.batches.length >= 1);
    expect(transport.batches).toHaveLength(1);
    const waiting = messages.map((m) => m.id).filter((id) => !transport.batches[0]!.ids.includes(id));
    clock.advance(2_000);
    const taken = await store.claimDue({ ids: waiting, limit: waiting.length, leaseMs: 60_000, token: 'other-worker' });
    expect(taken).toHaveLength(5);
    open();
    const report = await drain;
    expect(report).toMatchObject({ sent: 5, fenced: 5 });
    expect(transport.batches).toHaveLength(1);
    for (const id of waiting) expect(await store.get(id)).toMatchObject({ status: 'pending', attempts: 2 });
  });
});
