import { describe, expect, it } from 'vitest';
import { createMemoryInboxStore, type Message } from '../../src/index.js';
import { manualClock } from '../support.js';

const message = (id: string): Message => ({ id, source: 's', type: 't', payload: 1, headers: {}, createdAt: new Date() });

describe('review: in-memory inbox store keeps the port contract', () => {
  it('markProcessed: the handler writes and the mark roll back together when the claim is lost before commit', async () => {
    const clock = manualClock();
    const store = createMemoryInboxStore({ clock });
    await store.transaction((tx) => store.receive(tx, message('m1')));
    const [claimed] = await store.claimDue({ limit: 1, leaseMs: 1_000, token: 'first' });
    const ledger: string[] = [];
    const committed = store.transaction(async (tx) => {
      tx.onCommit(() => ledger.push('m1'));
      expect(await store.markProcessed(tx, { source: 's', id: 'm1', token: claimed!.token })).toBe(true);
      clock.advance(1_001);
      await store.claimDue({ limit: 1, leaseMs: 1_000, token: 'second' }); // another worker takes over before commit
    });
    await expect(committed).rejects.toMatchObject({ code: 'lease_lost' });
    expect(ledger).toEqual([]);
    expect(await store.get({ source: 's', id: 'm1' })).toMatchObject({ status: 'received', attempts: 2 });
  });

  it('an inbox claim without a source is refused, not matched on the id alone', async () => {
    const store = createMemoryInboxStore();
    await store.transaction((tx) => store.receive(tx, message('m1')));
    const [claimed] = await store.claimDue({ limit: 1, leaseMs: 60_000, token: 'tok' });
    await expect(store.scheduleRetry({ id: 'm1', token: claimed!.token } as never, { delayMs: 1, error: 'x' })).rejects.toMatchObject({ code: 'invalid_options' });
    expect(await store.get({ source: 's', id: 'm1' })).toMatchObject({ lastError: null, attempts: 1 });
  });
});
