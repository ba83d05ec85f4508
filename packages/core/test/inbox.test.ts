import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMessage, MessageboxError, type Message } from '../src/index.js';
import { manualClock, silent } from './support.js';

function setup(options: Partial<Parameters<typeof createInbox>[0]> = {}) {
  const clock = manualClock();
  const store = createMemoryInboxStore({ clock });
  const inbox = createInbox({
    store,
    clock,
    random: () => 0.5,
    logger: silent,
    pollIntervalMs: 3_600_000,
    retry: { initialDelayMs: 1_000, factor: 2, maxAttempts: 3, jitter: 0 },
    ...options,
  });
  return { clock, store, inbox };
}

const message = (type = 'payment.created', payload = { amount: 1 }) => createMessage({ type, payload }, { source: 'vault', now: new Date() });

describe('inbox', () => {
  it('stores a message once and runs its handler once, even when delivered twice', async () => {
    const { inbox, store } = setup();
    const seen: Message[] = [];
    inbox.on('payment.created', (m) => void seen.push(m));
    const m = message();
    expect(await inbox.receive(m)).toEqual({ status: 'created' });
    expect(await inbox.receive({ ...m, payload: { amount: 999 } })).toEqual({ status: 'duplicate' });
    await inbox.idle();
    expect(seen.map((x) => [x.id, x.payload])).toEqual([[m.id, { amount: 1 }]]);
    expect(await store.get(m)).toMatchObject({ status: 'processed', attempts: 1, payload: { amount: 1 } });
    expect(await store.stats()).toMatchObject({ received: 0, processed: 1 });
  });

  it('the same id from two sources is two messages: both stored, both handled; a resend of either is a duplicate', async () => {
    const { inbox, store } = setup();
    const seen: string[] = [];
    inbox.on('payment.created', (m) => void seen.push(`${m.source}/${m.id}`));
    const fromA = { ...message(), id: 'order-42', source: 'billing' };
    const fromB = { ...message(), id: 'order-42', source: 'shipping', payload: { amount: 2 } };
    expect(await inbox.receive(fromA)).toEqual({ status: 'created' });
    expect(await inbox.receive(fromB)).toEqual({ status: 'created' });
    expect(await inbox.receive({ ...fromA, payload: { amount: 999 } })).toEqual({ status: 'duplicate' });
    await inbox.idle();
    expect(seen.sort()).toEqual(['billing/order-42', 'shipping/order-42']);
    expect(await store.get(fromA)).toMatchObject({ status: 'processed', payload: { amount: 1 } });
    expect(await store.get(fromB)).toMatchObject({ status: 'processed', payload: { amount: 2 } });
    expect(await store.get({ source: 'other', id: 'order-42' })).toBeNull();
  });

  it('a handler failure of (A, x) retries only that row, never (B, x) claimed in the same batch', async () => {
    const { inbox, store } = setup({ retry: { initialDelayMs: 1_000, maxAttempts: 1, jitter: 0 } });
    inbox.on('payment.created', (m) => {
      if (m.source === 'billing') throw new Error('billing handler broke');
    });
    await store.transaction(async (tx) => {
      await store.receive(tx, { ...message(), id: 'x', source: 'billing' });
      await store.receive(tx, { ...message(), id: 'x', source: 'shipping' });
    });
    expect(await inbox.processDue()).toBe(2);
    expect(await store.get({ source: 'billing', id: 'x' })).toMatchObject({ status: 'dead', lastError: expect.stringContaining('billing handler broke') });
    expect(await store.get({ source: 'shipping', id: 'x' })).toMatchObject({ status: 'processed', lastError: null });
  });

  it('rejects a type without handler by default, storing nothing', async () => {
    const { inbox, store } = setup();
    const m = message('nobody.handles');
    await expect(inbox.receive(m)).rejects.toMatchObject({ code: 'unknown_type' });
    expect(await store.get(m)).toBeNull();
  });

  it('accepts and keeps a type without handler when unknownTypes is "accept"', async () => {
    const { inbox, store } = setup({ unknownTypes: 'accept' });
    const m = message('later.handled');
    expect(await inbox.receive(m)).toEqual({ status: 'created' });
    expect(await inbox.processDue()).toBe(0);
    expect(await store.get(m)).toMatchObject({ status: 'received', attempts: 0 });
  });

  it('rejects a malformed message with a clear error', async () => {
    const { inbox } = setup();
    inbox.on('payment.created', () => {});
    await expect(inbox.receive({ ...message(), id: '' })).rejects.toMatchObject({ code: 'invalid_message' });
    await expect(inbox.receive({ ...message(), payload: { x: Number.NaN } })).rejects.toMatchObject({ code: 'invalid_payload' });
  });

  it('retries a failing handler with backoff, then runs it to success', async () => {
    const { inbox, store, clock } = setup();
    let calls = 0;
    const attempts: number[] = [];
    inbox.on('payment.created', (_m, { attempt }) => {
      attempts.push(attempt);
      if (++calls < 3) throw new Error(`flaky ${calls}`);
    });
    const m = message();
    await inbox.receive(m);
    await inbox.idle();
    expect(await store.get(m)).toMatchObject({ status: 'received', attempts: 1, lastError: 'flaky 1' });
    clock.advance(1_000);
    expect(await inbox.processDue()).toBe(1);
    expect((await store.get(m))!.availableAt.getTime() - clock.now()).toBe(2_000);
    clock.advance(2_000);
    await inbox.processDue();
    expect(attempts).toEqual([1, 2, 3]);
    expect(await store.get(m)).toMatchObject({ status: 'processed', attempts: 3 });
  });

  it('dead-letters a handler that keeps failing, keeping the error', async () => {
    const { inbox, store, clock } = setup();
    const dead: string[] = [];
    inbox.events.on('dead', (e) => dead.push(e.error));
    inbox.on('payment.created', () => {
      throw new Error('ledger closed');
    });
    const m = message();
    await inbox.receive(m);
    await inbox.idle();
    for (let i = 0; i < 4; i++) {
      clock.advance(10_000);
      await inbox.processDue();
    }
    expect(await store.get(m)).toMatchObject({ status: 'dead', attempts: 3 });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toContain('ledger closed');
  });

  it('inline mode: a failing handler stores nothing and rejects, so the sender retries', async () => {
    const { inbox, store } = setup({ mode: 'inline' });
    let fail = true;
    inbox.on('payment.created', () => {
      if (fail) throw new Error('not now');
    });
    const m = message();
    const error = await inbox.receive(m).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageboxError);
    expect((error as MessageboxError).code).toBe('handler_failed');
    expect(await store.get(m)).toBeNull();
    fail = false;
    expect(await inbox.receive(m)).toEqual({ status: 'created' });
    expect(await store.get(m)).toMatchObject({ status: 'processed' });
  });

  it('refuses a second handler for one type', () => {
    const { inbox } = setup();
    inbox.on('payment.created', () => {});
    expect(() => inbox.on('payment.created', () => {})).toThrow(/already registered/);
  });

  it('warns at start when retention is shorter than the sender retry schedule', async () => {
    const warnings: string[] = [];
    const { inbox } = setup({ retention: { keepMs: 1_000 }, logger: { ...silent, warn: (_f, m) => void warnings.push(m) } });
    await inbox.start();
    await inbox.stop();
    expect(warnings.some((w) => w.includes('retention is shorter'))).toBe(true);
  });

  it('worker purges processed rows past retention, in batches', async () => {
    const { inbox, store, clock } = setup({ retention: { keepMs: 5_000, batchSize: 2, intervalMs: 10 } });
    inbox.on('payment.created', () => {});
    for (let i = 0; i < 5; i++) await inbox.receive(message());
    await inbox.idle();
    clock.advance(6_000);
    await inbox.start();
    for (let i = 0; i < 2_000 && (await store.stats()).processed > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await inbox.stop();
    expect(await store.stats()).toMatchObject({ processed: 0 });
  });
});
