import { createMessage, type InboxStore } from '@messagebox/core';
import { expect } from 'vitest';

/** What {@link expectInboxIdentityMigration} needs from a dialect's test. */
export interface InboxIdentityMigrationSetup<Tx> {
  /** Creates the inbox and the migrations table as migration `0001` created them (inbox keyed by `id`) and records `0001` as applied. */
  createLegacyTables(): Promise<void>;
  /** The storage over those tables. */
  inbox: InboxStore<Tx>;
  migrate(): Promise<string[]>;
}

/**
 * Asserts that migration `0002_inbox_identity_source_id` upgrades an inbox
 * made by `0001` (keyed by `id`): before it, the same id from a second source
 * is wrongly a duplicate; after it, every row is kept with its state, the
 * second source's message is stored, and duplicates are still duplicates.
 *
 * @example
 * it('migrates an inbox keyed by id', () =>
 *   expectInboxIdentityMigration({ createLegacyTables, inbox: storage.inbox, migrate: () => storage.migrate() }));
 */
export async function expectInboxIdentityMigration<Tx>(setup: InboxIdentityMigrationSetup<Tx>): Promise<void> {
  const { inbox } = setup;
  await setup.createLegacyTables();
  const make = (source: string, id: string, n: number) => ({ ...createMessage({ type: 'a.b', payload: { n }, source, headers: { h: String(n) } }, { now: new Date() }), id });
  const receive = (m: ReturnType<typeof make>) => inbox.transaction((tx) => inbox.receive(tx, m));
  const [ax, ay, az] = [make('sender-a', 'x', 1), make('sender-a', 'y', 2), make('sender-a', 'z', 3)];
  for (const m of [ax, ay, az]) expect(await receive(m)).toBe(true);
  const [done] = await inbox.claimDue({ token: 'legacy-1', leaseMs: 60_000, limit: 1 });
  expect(await inbox.transaction((tx) => inbox.markProcessed(tx, done!))).toBe(true);
  const [dead] = await inbox.claimDue({ token: 'legacy-2', leaseMs: 60_000, limit: 1 });
  expect(await inbox.markDead(dead!, { error: 'gave up' })).toBe(true);
  const bx = make('sender-b', 'x', 4);
  expect(await receive(bx)).toBe(false); // the bug the migration fixes: keyed by id alone
  const before = await inbox.list({ limit: 100 });
  expect(before).toHaveLength(3);

  expect(await setup.migrate()).toContain('0002_inbox_identity_source_id');
  expect(await setup.migrate()).toEqual([]);

  const after = await inbox.list({ limit: 100 });
  expect(after).toEqual(before);
  expect(await inbox.get(done!)).toMatchObject({ status: 'processed' });
  expect(await inbox.get(dead!)).toMatchObject({ status: 'dead', lastError: 'gave up' });
  expect(await receive(bx)).toBe(true);
  expect(await receive(ax)).toBe(false);
  expect(await receive(bx)).toBe(false);
  expect(await inbox.get(bx)).toMatchObject({ source: 'sender-b', id: 'x', payload: { n: 4 } });
  expect(await inbox.get(ax)).toMatchObject({ source: 'sender-a', id: 'x', payload: { n: 1 }, headers: { h: '1' } });
  const key = (m: { source: string; id: string }) => `${m.source}/${m.id}`;
  const finished = new Set([key(done!), key(dead!)]);
  const waiting = [ax, ay, az, bx].map(key).filter((k) => !finished.has(k));
  const claimed = await inbox.claimDue({ token: 'after', leaseMs: 60_000, limit: 10 });
  expect(claimed.map(key).sort()).toEqual(waiting.sort());
}
