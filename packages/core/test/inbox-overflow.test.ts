import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, type InboxStore } from '../src/index.js';
import type { MemoryTransaction } from '../src/memory/memory-transaction.js';

describe('inbox: a burst beyond the after-commit queue', () => {
  it('gives back or writes unclaimed what does not fit: no statement per message, a handful of log lines, every message handled once', async () => {
    const base = createMemoryInboxStore();
    let releases = 0;
    const store: InboxStore<MemoryTransaction> = { ...base, release: async (claims) => (releases++, base.release(claims)) };
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (_: unknown, msg: string) => void warnings.push(msg), error: (_: unknown, msg: string) => void warnings.push(msg) };
    const handled = new Map<string, number>();
    const inbox = createInbox({ store, logger, maxQueued: 50, concurrency: 4, pollIntervalMs: 3_600_000, retention: false });
    inbox.on('t', async (message) => {
      await new Promise((resolve) => setImmediate(resolve));
      handled.set(message.id, (handled.get(message.id) ?? 0) + 1);
    });
    await inbox.start();
    const total = 5_000;
    const results = await Promise.all(
      Array.from({ length: total }, (_, i) => inbox.receive({ id: `m${i}`, source: 's', type: 't', payload: i, headers: {}, createdAt: new Date() })),
    );
    expect(results.every((r) => r.status === 'created')).toBe(true);
    for (let i = 0; i < 2_000 && handled.size < total; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await inbox.stop();
    expect(handled.size).toBe(total);
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    expect(releases).toBeLessThan(total / 50); // overflow is given back in batches (or written unclaimed), never once per message
    expect(warnings.length).toBeLessThanOrEqual(3);
    expect((await store.stats()).received).toBe(0);
  });

  it('receives committing at the same time hold their places in the queue: claimed rows never outnumber its places, none is given back', async () => {
    const base = createMemoryInboxStore();
    let released = 0;
    let claimedAtReceive = 0;
    /** Rows written claimed whose handler has not started yet (waiting in the queue, or being committed), and the most seen. */
    const placed = new Set<string>();
    let mostPlaced = 0;
    const note = (message: { id: string }, claimed: boolean) => {
      if (!claimed) return;
      claimedAtReceive++;
      placed.add(message.id);
      mostPlaced = Math.max(mostPlaced, placed.size);
    };
    const store: InboxStore<MemoryTransaction> = {
      ...base,
      release: async (claims) => ((released += claims.length), base.release(claims)),
      receiveMany: async (tx, entries) => (entries.forEach((e) => note(e.message, e.claim !== undefined)), base.receiveMany!(tx, entries)),
      receive: async (tx, message, options) => (note(message, options?.claim !== undefined), base.receive(tx, message, options)),
    };
    const handled = new Set<string>();
    const inbox = createInbox({ store, maxQueued: 50, concurrency: 4, pollIntervalMs: 3_600_000, retention: false }).on('t', async (message) => {
      placed.delete(message.id);
      await new Promise((resolve) => setImmediate(resolve));
      handled.add(message.id);
    });
    await inbox.start();
    const total = 1_000;
    await Promise.all(Array.from({ length: total }, (_, i) => inbox.receive({ id: `p${i}`, source: 's', type: 't', payload: i, headers: {}, createdAt: new Date() })));
    for (let i = 0; i < 2_000 && handled.size < total; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await inbox.stop();
    expect(handled.size).toBe(total);
    expect(released, 'claims given back').toBe(0);
    expect(claimedAtReceive).toBeGreaterThan(0);
    expect(mostPlaced).toBeLessThanOrEqual(50 + 4); // the queue's places (and the slots taking from it)
  });

  it('receives waiting for their group-commit batch hold no place: a burst larger than the queue is claimed batch by batch while the handlers keep up', async () => {
    const base = createMemoryInboxStore();
    let claimedAtReceive = 0;
    const store: InboxStore<MemoryTransaction> = {
      ...base,
      receiveMany: async (tx, entries) => ((claimedAtReceive += entries.filter((e) => e.claim).length), base.receiveMany!(tx, entries)),
    };
    const handled = new Set<string>();
    // Each batch of 10 fits the queue of 20 once the one before it was handed to the handlers, so every row is claimed at receive.
    const inbox = createInbox({ store, maxQueued: 20, concurrency: 10, pollIntervalMs: 3_600_000, retention: false, groupCommit: { maxMessages: 10 } }).on('t', (message) => {
      handled.add(message.id);
    });
    await inbox.start();
    const total = 200;
    await Promise.all(Array.from({ length: total }, (_, i) => inbox.receive({ id: `b${i}`, source: 's', type: 't', payload: i, headers: {}, createdAt: new Date() })));
    await inbox.idle();
    await inbox.stop();
    expect(handled.size).toBe(total);
    expect(claimedAtReceive).toBe(total);
  });

  it('a receive answered as a duplicate, or failed with its batch, gives its place back: later receives still find room', async () => {
    const base = createMemoryInboxStore();
    let claimedAtReceive = 0;
    const poison = (id: string) => id.startsWith('x');
    const store: InboxStore<MemoryTransaction> = {
      ...base,
      receiveMany: async (tx, entries) => {
        if (entries.some((e) => poison(e.message.id))) throw new Error('this batch fails');
        claimedAtReceive += entries.filter((e) => e.claim).length;
        return base.receiveMany!(tx, entries);
      },
      receive: async (tx, message, options) => {
        if (poison(message.id)) throw new Error('this message fails');
        claimedAtReceive += options?.claim ? 1 : 0;
        return base.receive(tx, message, options);
      },
    };
    const handled = new Set<string>();
    const inbox = createInbox({ store, maxQueued: 3, concurrency: 1, pollIntervalMs: 3_600_000, retention: false }).on('t', (message) => {
      handled.add(message.id);
    });
    const receive = (id: string) => inbox.receive({ id, source: 's', type: 't', payload: id, headers: {}, createdAt: new Date() });
    await Promise.all(['a1', 'a2', 'a3'].map(receive));
    await inbox.idle();
    // Many more duplicates and failing receives than the queue has places: had any kept its place, nothing below would be claimed.
    const duplicates = await Promise.all(Array.from({ length: 30 }, (_, i) => receive(`a${(i % 3) + 1}`)));
    expect(duplicates.every((r) => r.status === 'duplicate')).toBe(true);
    const failed = await Promise.allSettled(['b1', 'x1', 'b2'].map(receive)); // one batch that fails, then each received alone
    expect(failed.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await inbox.idle();
    claimedAtReceive = 0;
    await Promise.all(['c1', 'c2', 'c3'].map(receive));
    await inbox.idle();
    expect(claimedAtReceive).toBe(3);
    expect([...handled].sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1', 'c2', 'c3']); // no worker runs here: every one was handled after commit
  });
});
