import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMessage, type InboxClaim, type Message } from '../src/index.js';
import type { MemoryTransaction } from '../src/memory/memory-transaction.js';
import { manualClock, silent } from './support.js';

const TYPE = 'payment.created';
const message = (n: number, type = TYPE) => createMessage({ type, payload: { n } }, { source: 'vault', now: new Date() });

function setup(options: Partial<Parameters<typeof createInbox<MemoryTransaction>>[0]> = {}) {
  const clock = manualClock();
  const base = createMemoryInboxStore({ clock });
  const counts = { transactions: 0, markProcessed: 0, markProcessedMany: 0 };
  const store: typeof base = {
    ...base,
    transaction: (fn) => (counts.transactions++, base.transaction(fn)),
    markProcessed: (tx, claim) => (counts.markProcessed++, base.markProcessed(tx, claim)),
    markProcessedMany: (tx, claims) => (counts.markProcessedMany++, base.markProcessedMany!(tx, claims)),
  };
  const inbox = createInbox({
    store,
    clock,
    random: () => 0.5,
    logger: silent,
    pollIntervalMs: 3_600_000,
    retry: { initialDelayMs: 1_000, factor: 2, maxAttempts: 3, jitter: 0 },
    ...options,
  });
  /** Handler side effects that committed, per message id: what "handled exactly once" means. */
  const committed = new Map<string, number>();
  const commitEffect = (tx: MemoryTransaction, messages: readonly Message[]) =>
    tx.onCommit(() => messages.forEach((m) => committed.set(m.id, (committed.get(m.id) ?? 0) + 1)));
  const storeAll = (messages: readonly Message[]) => base.transaction(async (tx) => void (await base.receiveMany!(tx, messages.map((m) => ({ message: m })))));
  return { clock, store, base, inbox, counts, committed, commitEffect, storeAll };
}

describe('inbox batch handlers (onBatch)', () => {
  it('groups claimed messages of a batch type up to maxMessages, one transaction and one markProcessedMany per batch', async () => {
    const { inbox, counts, committed, commitEffect, storeAll, base } = setup({ batchSize: 250 });
    const sizes: number[] = [];
    const single: string[] = [];
    inbox
      .onBatch(TYPE, (messages, { tx, attempts }) => {
        sizes.push(messages.length);
        expect(attempts).toEqual(messages.map(() => 1));
        commitEffect(tx, messages);
      }, { maxMessages: 100 })
      .on('other.type', (m) => void single.push(m.id));
    const batchType = Array.from({ length: 245 }, (_, i) => message(i));
    const others = Array.from({ length: 5 }, (_, i) => message(i, 'other.type'));
    await storeAll([...batchType, ...others]);
    expect(await inbox.processDue()).toBe(250);
    expect(sizes.sort((a, b) => b - a)).toEqual([100, 100, 45]);
    expect(single).toHaveLength(5);
    expect(counts).toEqual({ transactions: 3 + 5, markProcessedMany: 3, markProcessed: 5 });
    expect([...committed.values()].every((n) => n === 1)).toBe(true);
    expect(committed.size).toBe(245);
    expect(await base.stats()).toMatchObject({ received: 0, processed: 250, dead: 0 });
  });

  it('messages received and committed together (group commit) run as one batch right after commit, each emitting handled', async () => {
    const { inbox, committed, commitEffect, base } = setup();
    const calls: number[] = [];
    const handled: string[] = [];
    inbox.events.on('handled', (e) => void handled.push(e.message.id));
    inbox.onBatch(TYPE, (messages, { tx }) => {
      calls.push(messages.length);
      commitEffect(tx, messages);
    });
    const messages = Array.from({ length: 30 }, (_, i) => message(i));
    await Promise.all(messages.map((m) => inbox.receive(m)));
    await inbox.idle();
    expect(calls.reduce((a, b) => a + b, 0)).toBe(30);
    expect(Math.max(...calls)).toBeGreaterThan(1);
    expect(calls.length).toBeLessThan(30);
    expect(handled.sort()).toEqual(messages.map((m) => m.id).sort());
    expect(committed.size).toBe(30);
    expect(await base.stats()).toMatchObject({ received: 0, processed: 30 });
  });

  it('a poison message is isolated: the batch rolls back, the others run one by one and are processed once, the poison is retried and then dead', async () => {
    const { inbox, clock, base, counts, committed, commitEffect, storeAll } = setup();
    const messages = Array.from({ length: 5 }, (_, i) => message(i));
    const poison = messages[2]!;
    const calls: string[][] = [];
    const events: string[] = [];
    inbox.events.on('handled', (e) => void events.push(`handled ${e.message.id}`));
    inbox.events.on('handlerFailed', (e) => void events.push(`failed ${e.message.id} #${e.attempts}`));
    inbox.events.on('dead', (e) => void events.push(`dead ${e.message.id} #${e.attempts}`));
    inbox.onBatch(TYPE, (batch, { tx }) => {
      calls.push(batch.map((m) => m.id));
      commitEffect(tx, batch);
      if (batch.some((m) => m.id === poison.id)) throw new Error('poison');
    });
    await storeAll(messages);
    await inbox.processDue();
    expect(calls).toEqual([messages.map((m) => m.id), ...messages.map((m) => [m.id])]);
    expect(counts).toMatchObject({ markProcessedMany: 0, markProcessed: 4 });
    for (const m of messages) {
      if (m === poison) expect(await base.get(m)).toMatchObject({ status: 'received', attempts: 1, lastError: 'poison' });
      else expect(await base.get(m)).toMatchObject({ status: 'processed', attempts: 1 });
    }
    clock.advance(1_000);
    await inbox.processDue();
    clock.advance(2_000);
    await inbox.processDue();
    clock.advance(10_000);
    expect(await inbox.processDue()).toBe(0);
    expect(await base.get(poison)).toMatchObject({ status: 'dead', attempts: 3, lastError: expect.stringContaining('poison') });
    expect([...committed.keys()].sort()).toEqual(messages.filter((m) => m !== poison).map((m) => m.id).sort());
    expect([...committed.values()]).toEqual([1, 1, 1, 1]);
    expect(events.filter((e) => e.startsWith('handled'))).toHaveLength(4);
    expect(events.filter((e) => !e.startsWith('handled'))).toEqual([`failed ${poison.id} #1`, `failed ${poison.id} #2`, `dead ${poison.id} #3`]);
  });

  it('a batch that fails for every message settles each on its own: retried with backoff, then dead, per message', async () => {
    const { inbox, clock, base, storeAll } = setup({ retry: { initialDelayMs: 1_000, factor: 2, maxAttempts: 2, jitter: 0 } });
    const failed: string[] = [];
    inbox.events.on('handlerFailed', (e) => void failed.push(e.message.id));
    inbox.onBatch(TYPE, () => {
      throw new Error('ledger closed');
    });
    const messages = Array.from({ length: 3 }, (_, i) => message(i));
    await storeAll(messages);
    await inbox.processDue();
    expect(failed.sort()).toEqual(messages.map((m) => m.id).sort());
    for (const m of messages) expect((await base.get(m))!.availableAt.getTime() - clock.now()).toBe(1_000);
    clock.advance(1_000);
    await inbox.processDue();
    expect((await base.list({ status: 'dead' })).map((r) => r.id).sort()).toEqual(messages.map((m) => m.id).sort());
  });

  it('a claim of the batch lost meanwhile: the batch rolls back, that message is left to its new owner, the others are processed one by one', async () => {
    const { inbox, clock, base, committed, commitEffect, storeAll } = setup({ leaseMs: 10_000 });
    const messages = Array.from({ length: 4 }, (_, i) => message(i));
    const calls: number[] = [];
    let taken: InboxClaim | undefined;
    inbox.onBatch(TYPE, async (batch, { tx }) => {
      calls.push(batch.length);
      commitEffect(tx, batch);
      if (!taken) {
        clock.advance(10_001);
        const [row] = await base.claimDue({ token: 'other-worker', leaseMs: 60_000, limit: 1 });
        taken = row;
      }
    });
    await storeAll(messages);
    await inbox.processDue();
    expect(taken).toBeDefined();
    expect(calls).toEqual([4, 1, 1, 1]);
    expect(await base.get(taken!)).toMatchObject({ status: 'received' });
    expect(committed.has(taken!.id)).toBe(false);
    expect([...committed.keys()].sort()).toEqual(messages.filter((m) => m.id !== taken!.id).map((m) => m.id).sort());
    expect(await base.transaction((tx) => base.markProcessed(tx, taken!))).toBe(true);
  });

  it('messages past maxAttempts are dead without running; the rest of the batch runs', async () => {
    const { inbox, base, storeAll } = setup({ retry: { maxAttempts: 1, jitter: 0 } });
    const seen: string[] = [];
    inbox.onBatch(TYPE, (batch) => void seen.push(...batch.map((m) => m.id)));
    const [stale, ...fresh] = Array.from({ length: 3 }, (_, i) => message(i));
    await storeAll([stale!]);
    await base.claimDue({ token: 'crashed-worker', leaseMs: -1, limit: 1 });
    await storeAll(fresh);
    await inbox.processDue();
    expect(seen.sort()).toEqual(fresh.map((m) => m.id).sort());
    expect(await base.get(stale!)).toMatchObject({ status: 'dead', attempts: 2 });
  });

  it('a batch aborted by stop({ timeoutMs }) is not run again one by one: each message is settled with the abort and retried later', async () => {
    const { inbox, base, storeAll } = setup({ retry: { initialDelayMs: 60_000, jitter: 0 } });
    let calls = 0;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    inbox.onBatch(TYPE, (_batch, { signal }) => {
      calls++;
      started();
      return new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    });
    const messages = Array.from({ length: 3 }, (_, i) => message(i));
    await storeAll(messages);
    await inbox.start();
    await running;
    expect(await inbox.stop({ timeoutMs: 20 })).toBe(false);
    await inbox.idle();
    expect(calls).toBe(1);
    for (const m of messages) expect(await base.get(m)).toMatchObject({ status: 'received', attempts: 1, lastError: expect.stringMatching(/stopped before this attempt finished/) });
  });

  it('inline mode handles a batch type per message, with a one-message array', async () => {
    const { inbox, base } = setup({ mode: 'inline' });
    const calls: number[] = [];
    inbox.onBatch(TYPE, (batch) => void calls.push(batch.length));
    await Promise.all([inbox.receive(message(1)), inbox.receive(message(2))]);
    expect(calls).toEqual([1, 1]);
    expect(await base.stats()).toMatchObject({ processed: 2 });
  });

  it('a store without markProcessedMany: the batch marks each message with markProcessed in its one transaction', async () => {
    const { inbox, base, store, counts, storeAll } = setup();
    delete store.markProcessedMany;
    inbox.onBatch(TYPE, () => {});
    await storeAll(Array.from({ length: 3 }, (_, i) => message(i)));
    await inbox.processDue();
    expect(counts).toMatchObject({ transactions: 1, markProcessed: 3 });
    expect(await base.stats()).toMatchObject({ processed: 3 });
  });

  it('refuses a bad maxMessages and a second handler for a type', () => {
    const { inbox } = setup();
    expect(() => inbox.onBatch(TYPE, () => {}, { maxMessages: 0 })).toThrow(/maxMessages must be a positive integer/);
    inbox.onBatch(TYPE, () => {});
    expect(() => inbox.on(TYPE, () => {})).toThrow(/already registered/);
    expect(() => inbox.onBatch(TYPE, () => {})).toThrow(/already registered/);
  });
  it('the worker keeps claiming while a backlog lasts: a full claim grouped into few batches counts its rows, not its batches', async () => {
    const { inbox, committed, commitEffect, storeAll, base } = setup({ batchSize: 10 });
    inbox.onBatch(TYPE, (messages, { tx }) => commitEffect(tx, messages), { maxMessages: 10 });
    await storeAll(Array.from({ length: 50 }, (_, i) => message(i)));
    await inbox.start();
    try {
      // The poll interval is an hour: only a loop that claims again at once drains the backlog.
      for (let i = 0; i < 4_000 && committed.size < 50; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(committed.size).toBe(50);
      expect(await base.stats()).toMatchObject({ received: 0, processed: 50 });
    } finally {
      await inbox.stop();
    }
  });
});
