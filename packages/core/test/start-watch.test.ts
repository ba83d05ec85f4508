import { describe, expect, it } from 'vitest';
import { createMemoryOutboxStore, createOutbox, type OutboxStore } from '../src/index.js';
import type { MemoryTransaction } from '../src/memory/index.js';
import { recordingTransport, silent } from './support.js';

/** A memory store whose first `failures` watch() calls reject, as a LISTEN that cannot connect. */
function flakyWatchStore(failures: number) {
  const inner = createMemoryOutboxStore();
  const counts = { watchCalls: 0, listening: 0, claims: 0 };
  const store: OutboxStore<MemoryTransaction> = {
    ...inner,
    claimDue: (options) => {
      counts.claims++;
      return inner.claimDue(options);
    },
    async watch(onWake) {
      counts.watchCalls++;
      if (counts.watchCalls <= failures) throw new Error('LISTEN: connection refused');
      counts.listening++;
      const stop = await inner.watch!(onWake);
      return async () => {
        counts.listening--;
        await stop();
      };
    },
  };
  return { store, counts };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('outbox start() when the store cannot watch', () => {
  it('rejects without starting anything, and a later start() subscribes and runs', async () => {
    const { store, counts } = flakyWatchStore(1);
    const transport = recordingTransport();
    const outbox = createOutbox({ store, source: 'vault', logger: silent, pollIntervalMs: 3_600_000, retention: false }).configure('t', { transport });
    const waiting = await store.transaction((tx) => outbox.add(tx, { type: 't', payload: 1 }));

    await expect(outbox.start()).rejects.toThrow('connection refused');
    expect(counts.claims).toBe(0); // the worker loop did not start
    expect(counts.listening).toBe(0);

    await outbox.start();
    expect(counts).toMatchObject({ watchCalls: 2, listening: 1 });
    await until(() => transport.delivered.length === 1, 'the waiting message');
    expect(transport.delivered[0]!.id).toBe(waiting.id);

    const later = await store.transaction((tx) => outbox.add(tx, { type: 't', payload: 2 })); // found through the subscription, not a poll
    await until(() => transport.delivered.length === 2, 'a message signalled by the store');
    expect(transport.delivered[1]!.id).toBe(later.id);

    expect(await outbox.stop()).toBe(true);
    expect(counts.listening).toBe(0);
  });

  it('start() right after a stop() that overtook a subscribing start() runs and subscribes once', async () => {
    const { store, counts } = flakyWatchStore(0);
    const transport = recordingTransport();
    const outbox = createOutbox({ store, source: 'vault', logger: silent, pollIntervalMs: 3_600_000, retention: false }).configure('t', { transport });
    const first = outbox.start();
    await outbox.stop();
    await Promise.all([first, outbox.start()]);
    expect(counts.listening).toBe(1);
    await store.transaction((tx) => outbox.add(tx, { type: 't', payload: 1 }));
    await until(() => transport.delivered.length === 1, 'a delivery by the restarted worker');
    await outbox.stop();
    expect(counts.listening).toBe(0);
  });

  it('start() twice at once subscribes once', async () => {
    const { store, counts } = flakyWatchStore(0);
    const outbox = createOutbox({ store, source: 'vault', logger: silent, retention: false }).configure('t', { transport: recordingTransport() });
    await Promise.all([outbox.start(), outbox.start()]);
    expect(counts).toMatchObject({ watchCalls: 1, listening: 1 });
    await outbox.stop();
    expect(counts.listening).toBe(0);
  });
});
