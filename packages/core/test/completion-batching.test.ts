import { describe, expect, it } from 'vitest';
import { CoalescingBatcher } from '../src/internal/coalescing-batcher.js';
import { WorkRunner } from '../src/internal/work-runner.js';
import { createMemoryOutboxStore, createOutbox, type Logger, type OutboxStore } from '../src/index.js';
import type { MemoryTransaction } from '../src/memory/index.js';
import { recordingTransport } from './support.js';

function recordingLogger() {
  const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: object, msg: string) => void lines.push({ level, msg, fields: fields as Record<string, unknown> });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines, loud: () => lines.filter((l) => l.level === 'warn' || l.level === 'error') };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 4_000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

/**
 * A markSent round trip that lasts until `more` further sends were delivered
 * (or all `total` were), at least `ms`: what a statement can coalesce then
 * depends on the order of events, not on how fast a loaded machine runs.
 */
async function roundTrip(delivered: () => number, options: { ms: number; more: number; total: number }): Promise<void> {
  const target = Math.min(options.total, delivered() + options.more);
  await new Promise((resolve) => setTimeout(resolve, options.ms));
  await until(() => delivered() >= target, 'more sends to finish during a markSent');
}

describe('coalescing batcher', () => {
  it('keeps one write in flight and puts everything requested meanwhile into the next, bounded in size', async () => {
    const writes: number[][] = [];
    const finish: Array<() => void> = [];
    let inFlight = 0;
    let most = 0;
    const batcher = new CoalescingBatcher<number, number>(
      async (items) => {
        writes.push([...items]);
        most = Math.max(most, ++inFlight);
        await new Promise<void>((resolve) => finish.push(resolve));
        inFlight--;
        return items.map((n) => n * 10);
      },
      { maxBatch: 4 },
    );
    const first = [batcher.run(1), batcher.run(2)];
    await until(() => writes.length === 1, 'the first write');
    const meanwhile = [3, 4, 5, 6, 7, 8].map((n) => batcher.run(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1); // nothing starts while a write is in flight
    finish.shift()!();
    expect(await Promise.all(first)).toEqual([10, 20]);
    await until(() => writes.length === 2, 'the second write');
    finish.shift()!();
    await until(() => writes.length === 3, 'the third write');
    finish.shift()!();
    expect(await Promise.all(meanwhile)).toEqual([30, 40, 50, 60, 70, 80]);
    expect(writes).toEqual([[1, 2], [3, 4, 5, 6], [7, 8]]);
    expect(most).toBe(1);
  });

  it('writes a lone request at once when nothing else may join it, whatever the window', async () => {
    const writes: number[][] = [];
    const batcher = new CoalescingBatcher<number, number>(async (items) => (writes.push([...items]), [...items]), {
      maxBatch: 10,
      windowMs: 3_600_000, // an hour: only the "nothing else in flight" rule can let these through
      moreExpected: () => false,
    });
    expect(await batcher.run(1)).toBe(1);
    expect(await Promise.all([batcher.run(2), batcher.run(3)])).toEqual([2, 3]); // requested in the same turn: one write
    expect(writes).toEqual([[1], [2, 3]]);
  });

  it('an urgent request ends the window at once and takes what queued before it along', async () => {
    const writes: number[][] = [];
    const batcher = new CoalescingBatcher<number, number>(async (items) => (writes.push([...items]), [...items]), {
      maxBatch: 10,
      windowMs: 3_600_000, // an hour: only urgency can let these through within the test's time
      moreExpected: () => true,
    });
    const waiting = batcher.run(1);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve)); // the drain started and waits for its window
    expect(writes).toEqual([]);
    expect(await Promise.all([waiting, batcher.run(2, { urgent: true })])).toEqual([1, 2]);
    expect(writes).toEqual([[1, 2]]);
    expect(await batcher.run(3, { urgent: true })).toBe(3); // urgent from the start: no wait either
    expect(writes).toEqual([[1, 2], [3]]);
  });

  it('rejects the requests of a failed write and goes on with the next', async () => {
    let calls = 0;
    const batcher = new CoalescingBatcher<number, number>(async (items) => {
      if (++calls === 1) throw new Error('store down');
      return [...items];
    }, { maxBatch: 10 });
    await expect(batcher.run(1)).rejects.toThrow('store down');
    expect(await batcher.run(2)).toBe(2);
  });
});

describe('after-commit overflow', () => {
  it('a burst of 5,000 submitted items into a small queue logs a handful of lines, releases in a few calls and wakes the loop', async () => {
    const { logger, lines, loud } = recordingLogger();
    const released: number[][] = [];
    const processed: number[] = [];
    let claims = 0;
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const runner = new WorkRunner<number>(
      {
        claim: async () => (++claims, []),
        process: async (item) => {
          await blocked;
          processed.push(item);
        },
        release: async (items) => void released.push([...items]),
      },
      { name: 'outbox', batchSize: 100, concurrency: 2, pollIntervalMs: 3_600_000, maxQueued: 10, logger },
    );
    runner.start();
    await until(() => claims === 1, 'the first claim');
    for (let i = 0; i < 5_000; i++) runner.submit([i]);
    expect(runner.hasRoom).toBe(false);
    await until(() => released.flat().length === 5_000 - 12, 'the overflow to be given back');
    unblock(); // the loop claims once the queue has room again; it was woken, so it does not wait for the poll
    await until(() => claims >= 2, 'the woken loop to claim');
    await runner.idle();
    expect(processed).toHaveLength(12);
    expect(released.length).toBeLessThanOrEqual(5);
    expect(loud().length).toBeLessThanOrEqual(2);
    expect(lines.filter((l) => l.msg.includes('queue is full'))[0]?.fields).toMatchObject({ runner: 'outbox', maxQueued: 10 });
    await runner.stop(1_000);
  });

  it('outbox: 5,000 transactions at once with a small queue are all sent, with a handful of log lines, no per-message release and under 0.1 statements per message', async () => {
    const inner = createMemoryOutboxStore();
    const calls = { markSent: 0, release: 0, claimDue: 0 };
    const transport = recordingTransport();
    const store: OutboxStore<MemoryTransaction> = {
      ...inner,
      markSent: async (claims) => {
        calls.markSent++;
        await roundTrip(() => transport.delivered.length, { ms: 2, more: 50, total: 5_000 }); // a database round trip
        return inner.markSent(claims);
      },
      release: (claims) => (calls.release++, inner.release(claims)),
      claimDue: (options) => (calls.claimDue++, inner.claimDue(options)),
    };
    const { logger, loud } = recordingLogger();
    const slowSend = transport.send.bind(transport);
    transport.send = async (message, context) => {
      await new Promise((resolve) => setImmediate(resolve));
      await slowSend(message, context);
    };
    const outbox = createOutbox({ store, source: 'vault', logger, maxQueued: 20, concurrency: 32, pollIntervalMs: 3_600_000, retention: false }).configure('t', { transport });
    await outbox.start();
    await Promise.all(Array.from({ length: 5_000 }, (_, i) => outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: i }))));
    await until(() => transport.delivered.length >= 5_000, 'every message to be sent');
    await outbox.idle();
    expect(new Set(transport.delivered.map((m) => m.id)).size).toBe(5_000);
    expect(transport.delivered).toHaveLength(5_000);
    expect((await store.stats()).sent).toBe(5_000);
    expect((calls.markSent + calls.release + calls.claimDue) / 5_000).toBeLessThan(0.1); // statements per message on the sender
    expect(calls.release).toBeLessThanOrEqual(5);
    expect(loud().length).toBeLessThanOrEqual(3);
    await outbox.stop();
  });

  it('outbox: sends that finish at different moments are marked sent in few statements (coalesced while one is in flight)', async () => {
    const inner = createMemoryOutboxStore();
    let markSent = 0;
    let inFlight = 0;
    let most = 0;
    const total = 2_000;
    const transport = recordingTransport();
    const store: OutboxStore<MemoryTransaction> = {
      ...inner,
      markSent: async (claims) => {
        markSent++;
        most = Math.max(most, ++inFlight);
        await roundTrip(() => transport.delivered.length, { ms: 10, more: 50, total }); // a database round trip
        inFlight--;
        return inner.markSent(claims);
      },
    };
    const deliver = transport.send.bind(transport);
    let n = 0;
    transport.send = async (message, context) => {
      await new Promise((resolve) => setTimeout(resolve, 1 + (n++ % 10))); // receivers answer at different moments
      await deliver(message, context);
    };
    const outbox = createOutbox({ store, source: 'vault', logger: recordingLogger().logger, concurrency: 32, retention: false }).configure('t', { transport });
    await store.transaction((tx) => outbox.addMany(tx, Array.from({ length: total }, (_, i) => ({ type: 't', payload: i }))));
    expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: total, sent: total });
    expect(most).toBe(1);
    expect(markSent / total).toBeLessThan(0.1); // each statement coalesces the >= 50 completions of the previous one's round trip
  });
});
