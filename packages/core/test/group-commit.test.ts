import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMessage, type InboxStore, type Message } from '../src/index.js';
import type { MemoryTransaction } from '../src/memory/memory-transaction.js';
import { silent } from './support.js';

type Store = InboxStore<MemoryTransaction>;

/** The memory store, counting transactions and the entries of each `receiveMany`; `hold` keeps the next transactions open until released. */
function counted(base: Store = createMemoryInboxStore()) {
  const batches: number[] = [];
  let transactions = 0;
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const store: Store = {
    ...base,
    transaction: (fn) => {
      transactions++;
      return base.transaction(async (tx) => {
        const result = await fn(tx);
        await gate;
        return result;
      });
    },
    receiveMany: async (tx, entries) => {
      batches.push(entries.length);
      return base.receiveMany!(tx, entries);
    },
  };
  return {
    store,
    batches,
    transactions: () => transactions,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open?.();
    },
  };
}

const message = (id: string, source = 'shop') => ({ ...createMessage({ type: 'order.created', payload: { id }, source }, { now: new Date() }), id });
/** An inbox with a handler for `order.created`; with `handled: false` none (types accepted, stored only), so its transactions are receives only. */
const setup = (store: Store, extra: Partial<Parameters<typeof createInbox<MemoryTransaction>>[0]> = {}, handled = true) => {
  const inbox = createInbox({ store, logger: silent, pollIntervalMs: 3_600_000, retention: false, unknownTypes: 'accept', ...extra });
  return handled ? inbox.on('order.created', () => {}) : inbox;
};
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('inbox group commit', () => {
  it('concurrent receives share one transaction and one receiveMany; duplicates are still answered as duplicates', async () => {
    const c = counted();
    const inbox = setup(c.store, {}, false);
    const distinct = Array.from({ length: 24 }, (_, i) => message(`m${i}`));
    const sameIdOtherSource = message('m0', 'bank');
    const inputs: Message[] = [...distinct, distinct[3]!, distinct[7]!, sameIdOtherSource, distinct[3]!];
    const results = await Promise.all(inputs.map((m) => inbox.receive(m)));
    expect(results.map((r) => r.status)).toEqual([...distinct.map(() => 'created'), 'duplicate', 'duplicate', 'created', 'duplicate']);
    expect(c.transactions()).toBe(1);
    expect(c.batches).toEqual([inputs.length]);
    expect(await c.store.stats()).toMatchObject({ received: 25 });
  });

  it('messages received in one batch are all handled after its commit', async () => {
    const c = counted();
    const inbox = setup(c.store);
    const messages = Array.from({ length: 10 }, (_, i) => message(`m${i}`));
    await Promise.all(messages.map((m) => inbox.receive(m)));
    await inbox.idle();
    expect(c.batches).toEqual([10]);
    expect(await c.store.stats()).toMatchObject({ received: 0, processed: 10 });
  });

  it('receives arriving while a batch commits wait for it and go in the next batch, up to maxMessages; nobody is answered before its commit', async () => {
    const c = counted();
    const inbox = setup(c.store, { groupCommit: { maxMessages: 4 } });
    c.hold();
    let firstDone = false;
    const first = inbox.receive(message('first')).then((r) => ((firstDone = true), r));
    await turns();
    const later = Array.from({ length: 6 }, (_, i) => inbox.receive(message(`later${i}`)));
    await turns();
    expect(firstDone).toBe(false);
    expect(await c.store.get(message('first'))).toBeNull();
    expect(c.batches).toEqual([1]);
    c.release();
    expect(await first).toEqual({ status: 'created' });
    expect((await Promise.all(later)).every((r) => r.status === 'created')).toBe(true);
    expect(c.batches).toEqual([1, 4, 2]);
  });

  it('a batch whose transaction fails is received again one by one: the bad message fails alone, the others are stored once', async () => {
    const base = createMemoryInboxStore();
    const store: Store = {
      ...base,
      receive: async (tx, m, options) => {
        if (m.id === 'poison') throw new Error('the database refused this row');
        return base.receive(tx, m, options);
      },
      receiveMany: async (tx, entries) => {
        if (entries.some((e) => e.message.id === 'poison')) throw new Error('the database refused this row');
        return base.receiveMany!(tx, entries);
      },
    };
    const inbox = setup(store);
    const good = Array.from({ length: 5 }, (_, i) => message(`good${i}`));
    const outcomes = await Promise.allSettled([...good.slice(0, 2), message('poison'), ...good.slice(2), good[0]!].map((m) => inbox.receive(m)));
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.status : 'rejected'))).toEqual(['created', 'created', 'rejected', 'created', 'created', 'created', 'duplicate']);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/refused this row/);
    expect((await base.list()).map((r) => r.id).sort()).toEqual(good.map((m) => m.id).sort());
  });

  it('a batch lost at commit (e.g. a deadlock) loses nothing: every message is stored and answered by its own retry', async () => {
    const base = createMemoryInboxStore();
    let failures = 1;
    const store: Store = {
      ...base,
      transaction: (fn) =>
        base.transaction(async (tx) => {
          const result = await fn(tx);
          if (failures-- > 0) throw new Error('deadlock detected');
          return result;
        }),
    };
    const inbox = setup(store);
    const messages = Array.from({ length: 8 }, (_, i) => message(`m${i}`));
    expect((await Promise.all(messages.map((m) => inbox.receive(m)))).map((r) => r.status)).toEqual(messages.map(() => 'created'));
    await inbox.idle();
    expect(await base.stats()).toMatchObject({ received: 0, processed: 8 }); // one snapshot: two would race the handlers
  });

  it('a COMMIT that failed after the database committed (connection lost) answers created, not duplicate, and every handler runs without waiting for the lease', async () => {
    const base = createMemoryInboxStore();
    let ambiguous = 1;
    const store: Store = {
      ...base,
      transaction: async (fn) => {
        const result = await base.transaction(fn); // committed
        if (ambiguous-- > 0) throw new Error('Connection terminated unexpectedly'); // ...but the answer to COMMIT was lost
        return result;
      },
    };
    const handled: string[] = [];
    const inbox = createInbox({ store, logger: silent, pollIntervalMs: 3_600_000, leaseMs: 3_600_000, retention: false }).on('order.created', (m) => void handled.push(m.id));
    const received: string[] = [];
    inbox.events.on('received', ({ message }) => void received.push(message.id));
    await inbox.start(); // the worker, woken, takes the rows whose claim was given back; with an hour's lease and poll, nothing else would
    const messages = Array.from({ length: 5 }, (_, i) => message(`m${i}`));
    expect((await Promise.all(messages.map((m) => inbox.receive(m)))).map((r) => r.status)).toEqual(messages.map(() => 'created'));
    expect(received.sort()).toEqual(messages.map((m) => m.id).sort());
    for (let i = 0; i < 2_000 && handled.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(handled.sort()).toEqual(messages.map((m) => m.id).sort());
    expect(await inbox.receive(messages[0]!)).toEqual({ status: 'duplicate' }); // a real duplicate is still one
    expect((await base.stats()).processed).toBe(5);
    await inbox.stop();
  });

  it('without receiveMany the store gets one transaction per batch with a receive per message; groupCommit: false gives one per receive', async () => {
    const batched = counted();
    const { receiveMany: _omit, ...withoutMany } = batched.store;
    const inbox = setup(withoutMany as Store, {}, false);
    await Promise.all(Array.from({ length: 10 }, (_, i) => inbox.receive(message(`m${i}`))));
    expect(batched.transactions()).toBe(1);
    const single = counted();
    const unbatched = setup(single.store, { groupCommit: false }, false);
    await Promise.all(Array.from({ length: 10 }, (_, i) => unbatched.receive(message(`m${i}`))));
    expect(single.transactions()).toBe(10);
    expect(() => setup(single.store, { groupCommit: { maxMessages: 0 } })).toThrow(/groupCommit.maxMessages/);
  });

  it('inline mode keeps one transaction per message, with the handler inside it', async () => {
    const c = counted();
    const inbox = createInbox({ store: c.store, mode: 'inline', logger: silent, retention: false }).on('order.created', () => {});
    await Promise.all(Array.from({ length: 5 }, (_, i) => inbox.receive(message(`m${i}`))));
    expect(c.transactions()).toBe(5);
    expect(c.batches).toEqual([]);
  });
});
