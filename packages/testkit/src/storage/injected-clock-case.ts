import { createMessage, type Clock, type OutboxStore } from '@messagebox/core';
import { expect } from 'vitest';

/**
 * Asserts that an outbox made with an injected clock takes due times from it
 * instead of database time: a message added at `now` is due at `now`, and a
 * retry scheduled 30 s out is not claimable one millisecond early but is at
 * 30 s. `open` returns a migrated, empty outbox using `clock`; the outbox is
 * returned for further checks.
 *
 * @example
 * it('an injected clock replaces database time', () =>
 *   expectInjectedClock(async (clock) => {
 *     const storage = createPostgresStorage({ db, tablePrefix: 'clock_', clock });
 *     await storage.migrate();
 *     return storage.outbox;
 *   }));
 */
export async function expectInjectedClock<Tx>(open: (clock: Clock) => Promise<OutboxStore<Tx>>): Promise<OutboxStore<Tx>> {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const outbox = await open({ now: () => now });
  const m = createMessage({ type: 'a.b', payload: { x: 1 }, source: 'test' }, { now: new Date() });
  await outbox.transaction((tx) => outbox.add(tx, [m]));
  expect((await outbox.get(m.id))?.availableAt.getTime()).toBe(now);
  await outbox.claimDue({ token: 't1', leaseMs: 1_000, limit: 10 });
  await outbox.scheduleRetry({ id: m.id, token: 't1' }, { delayMs: 30_000, error: 'e' });
  now += 29_999;
  expect(await outbox.claimDue({ token: 't2', leaseMs: 1_000, limit: 10 })).toEqual([]);
  now += 1;
  expect(await outbox.claimDue({ token: 't3', leaseMs: 1_000, limit: 10 })).toHaveLength(1);
  return outbox;
}
