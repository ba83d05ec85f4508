import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createOutbox, type Transport } from '../../src/index.js';
import { manualClock, silent } from '../support.js';

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref())]);

/** Waits for the abort signal, then rejects with its reason: a well-behaved slow transport. */
function abortableTransport(): Transport & { signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    name: 'abortable',
    signals,
    send: (_message, { signal }) =>
      new Promise((_resolve, reject) => {
        signals.push(signal!);
        if (signal!.aborted) return reject(signal!.reason);
        signal!.addEventListener('abort', () => reject(signal!.reason), { once: true });
      }),
  };
}

function setupOutbox(transport: Transport) {
  const clock = manualClock();
  const store = createMemoryOutboxStore({ clock });
  const outbox = createOutbox({ store, source: 'vault', clock, logger: silent, concurrency: 1, pollIntervalMs: 3_600_000 }).configure('t', { transport });
  return { store, outbox };
}

describe('review: stop() after the shutdown timeout', () => {
  it('resolves false instead of hanging on attempts that were still queued, and gives their claims back', async () => {
    const { store, outbox } = setupOutbox(abortableTransport());
    const [, queued] = await outbox.transaction(async (tx) => [
      await outbox.add(tx, { type: 't', payload: 1 }),
      await outbox.add(tx, { type: 't', payload: 2 }),
    ]);
    expect(await within(outbox.stop({ timeoutMs: 20 }), 10_000)).toBe(false);
    expect(await within(outbox.idle(), 10_000)).toBeUndefined();
    expect(await store.get(queued.id)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
  });

  it('resolves even when an attempt ignores the abort signal (an inbox handler that never ends)', async () => {
    const store = createMemoryInboxStore();
    const inbox = createInbox({ store, logger: silent }).on('t', () => new Promise<void>(() => {}));
    await inbox.receive({ id: 'm1', source: 's', type: 't', payload: 1, headers: {}, createdAt: new Date() });
    expect(await within(inbox.stop({ timeoutMs: 20 }), 10_000)).toBe(false);
  });

  it('does not hand an already-aborted signal to attempts made after a timed-out stop()', async () => {
    const transport = abortableTransport();
    const { store, outbox } = setupOutbox(transport);
    await outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: 1 }));
    await within(outbox.stop({ timeoutMs: 20 }), 10_000);
    const attemptsBefore = transport.signals.length;
    const later = await outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: 2 }));
    for (let i = 0; i < 2_000 && transport.signals.length === attemptsBefore; i++) await new Promise((r) => setTimeout(r, 5));
    expect(transport.signals.length).toBeGreaterThan(attemptsBefore);
    expect(transport.signals.at(-1)?.aborted).toBe(false);
    expect(await store.get(later.id)).toMatchObject({ status: 'pending', lastError: null });
  });
});
