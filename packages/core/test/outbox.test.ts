import { describe, expect, it } from 'vitest';
import { createMemoryOutboxStore, createOutbox, MessageboxError, TransportError } from '../src/index.js';
import { down, manualClock, recordingTransport, silent } from './support.js';

function setup(options: Partial<Parameters<typeof createOutbox>[0]> = {}) {
  const clock = manualClock();
  const store = createMemoryOutboxStore({ clock });
  const transport = recordingTransport();
  const outbox = createOutbox({
    store,
    source: 'vault',
    clock,
    random: () => 0.5,
    logger: silent,
    pollIntervalMs: 3_600_000,
    retry: { initialDelayMs: 1_000, factor: 2, maxDelayMs: 60_000, jitter: 0.2, maxAttempts: 4 },
    ...options,
  }).configure('payment.created', { transport });
  return { clock, store, transport, outbox };
}

describe('outbox', () => {
  it('attempts delivery right after commit, not before', async () => {
    const { outbox, transport, store } = setup();
    let seenInside = -1;
    const message = await outbox.transaction(async (tx) => {
      const m = await outbox.add(tx, { type: 'payment.created', payload: { amount: 5 } });
      await new Promise((r) => setTimeout(r, 10));
      seenInside = transport.delivered.length;
      return m;
    });
    await outbox.idle();
    expect(seenInside).toBe(0);
    expect(transport.delivered.map((m) => m.id)).toEqual([message.id]);
    expect((await store.get(message.id))?.status).toBe('sent');
  });

  it('sends nothing when the transaction rolls back', async () => {
    const { outbox, transport, store } = setup();
    let id = '';
    await expect(
      outbox.transaction(async (tx) => {
        id = (await outbox.add(tx, { type: 'payment.created', payload: 1 })).id;
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    await outbox.idle();
    expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: 0 });
    expect(transport.attempts).toEqual([]);
    expect(await store.get(id)).toBeNull();
  });

  it('rejects a type without transport before writing anything', async () => {
    const { outbox, store } = setup();
    await expect(outbox.transaction((tx) => outbox.add(tx, { type: 'nobody.listens', payload: 1 }))).rejects.toMatchObject({ code: 'no_transport' });
    expect((await store.stats()).pending).toBe(0);
  });

  it('rejects a payload JSON cannot carry, writing nothing', async () => {
    const { outbox, store } = setup();
    await expect(outbox.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: { n: 1n } as never }))).rejects.toBeInstanceOf(MessageboxError);
    expect((await store.stats()).pending).toBe(0);
  });

  it('does not let a failing receiver fail or slow the commit', async () => {
    const { outbox, transport, store } = setup();
    transport.failAlways(down());
    const m = await outbox.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: 1 }));
    expect(await store.get(m.id)).not.toBeNull();
    await outbox.idle();
    expect((await store.get(m.id))?.status).toBe('pending');
  });

  it('retries with the backoff policy, measured on the injected clock, then delivers', async () => {
    const { outbox, transport, store, clock } = setup();
    transport.failNext(down(), down());
    const failed: number[] = [];
    outbox.events.on('failed', (e) => failed.push(e.delayMs));
    const m = await outbox.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: 1 }));
    await outbox.idle();
    let row = await store.get(m.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: 'receiver down' });
    expect(row!.availableAt.getTime() - clock.now()).toBe(1_000);

    clock.advance(999);
    expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: 0 });
    clock.advance(1);
    expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: 1, retried: 1 });
    row = await store.get(m.id);
    expect(row!.availableAt.getTime() - clock.now()).toBe(2_000);

    clock.advance(2_000);
    expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: 1, sent: 1 });
    expect(failed).toEqual([1_000, 2_000]);
    expect(transport.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect((await store.get(m.id))?.status).toBe('sent');
  });

  it('marks a message dead after maxAttempts, keeping the last error', async () => {
    const { outbox, transport, store, clock } = setup();
    transport.failAlways(new TransportError('still down', { status: 503 }));
    const dead: string[] = [];
    outbox.events.on('dead', (e) => dead.push(e.message.id));
    const m = await outbox.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: 1 }));
    await outbox.idle();
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      await outbox.resendUnsentMessages();
    }
    const row = await store.get(m.id);
    expect(row).toMatchObject({ status: 'dead', attempts: 4 });
    expect(row!.lastError).toContain('still down');
    expect(dead).toEqual([m.id]);
    expect(transport.attempts).toHaveLength(4);
  });

  it('makes a message dead at once on a permanent failure', async () => {
    const { outbox, transport, store } = setup();
    transport.failNext(new TransportError('400 bad request', { retryable: false, status: 400 }));
    const m = await outbox.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: 1 }));
    await outbox.idle();
    expect(await store.get(m.id)).toMatchObject({ status: 'dead', attempts: 1 });
  });

  it('honours retryAfterMs from the transport, jittered only later (random 0.5: + 0.5 × 20 %)', async () => {
    const { outbox, transport, store, clock } = setup();
    transport.failNext(new TransportError('429', { retryAfterMs: 30_000, status: 429 }));
    const m = await outbox.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: 1 }));
    await outbox.idle();
    expect((await store.get(m.id))!.availableAt.getTime() - clock.now()).toBe(33_000);
  });

  it('leaves messages written outside outbox.transaction() to deliver() or the worker', async () => {
    const { outbox, transport, store } = setup();
    const m = await store.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: 1 }));
    await outbox.idle();
    expect(transport.delivered).toHaveLength(0);
    expect(await outbox.deliver([m])).toMatchObject({ attempted: 1, sent: 1 });
    expect(await outbox.deliver([m])).toMatchObject({ attempted: 0 });
    expect(transport.delivered).toHaveLength(1);
  });

  it('worker: delivers what the store signals without waiting for the poll interval, and stops gracefully', async () => {
    const { outbox, transport, store } = setup();
    await outbox.start();
    await store.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: 1 }));
    for (let i = 0; i < 2_000 && transport.delivered.length === 0; i++) await new Promise((r) => setTimeout(r, 10)); // the poll is an hour: only the wake-up delivers it
    expect(transport.delivered).toHaveLength(1);
    expect(await outbox.stop()).toBe(true);
  });

  it('dead-letters a message whose earlier attempts never finished (crash loop)', async () => {
    const { outbox, transport, store, clock } = setup({ leaseMs: 1_000 });
    const m = await store.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: 1 }));
    for (let i = 0; i < 4; i++) {
      await store.claimDue({ limit: 10, leaseMs: 1_000, token: `crashed-${i}` });
      clock.advance(1_001);
    }
    await outbox.resendUnsentMessages();
    expect(transport.attempts).toHaveLength(0);
    expect(await store.get(m.id)).toMatchObject({ status: 'dead' });
    expect((await store.get(m.id))!.lastError).toContain('exceeds maxAttempts');
  });

  it('never claims a type it has no transport for (a rolling deploy with an older process)', async () => {
    const { outbox: newer, store, clock } = setup();
    newer.configure('refund.created', { transport: recordingTransport() });
    const older = createOutbox({ store, source: 'vault', clock, logger: silent }).configure('payment.created', { transport: recordingTransport() });
    const refund = await store.transaction((tx) => newer.add(tx, { type: 'refund.created', payload: 1 }));
    expect(await older.resendUnsentMessages()).toMatchObject({ attempted: 0 });
    expect(await older.deliver([refund])).toMatchObject({ attempted: 0 });
    expect(await store.get(refund.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await newer.resendUnsentMessages()).toMatchObject({ attempted: 1, sent: 1 });
  });
});
