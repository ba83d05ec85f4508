import { createMessage, type DeadKeyPolicy, type InboxStore, type Message, type OutboxStore } from '@messagebox/core';
import { expect } from 'vitest';
import { ids, LONG, sorted, token } from './fixtures.js';
import type { StorageCase } from './types.js';

type Outbox = OutboxStore<unknown>;
type Inbox = InboxStore<unknown>;

let counter = 0;
/** A message with ordering key `key` (none when undefined), from `source`, with an id of its own unless given. */
function keyed(key: string | undefined, options: { source?: string; id?: string } = {}): Message {
  return createMessage(
    { type: 'ordered.event', payload: { n: ++counter }, source: options.source ?? 'conformance', ...(key !== undefined ? { key } : {}), ...(options.id ? { id: options.id } : {}) },
    { now: new Date() },
  );
}
const add = (store: Outbox, messages: Message[], options?: Parameters<Outbox['add']>[2]) => store.transaction((tx) => store.add(tx, messages, options));
const claim = (store: Outbox, options: { deadKey?: DeadKeyPolicy; ids?: string[]; limit?: number } = {}) =>
  store.claimDue({ token: token(), leaseMs: LONG, limit: options.limit ?? 100, ...(options.deadKey ? { deadKey: options.deadKey } : {}), ...(options.ids ? { ids: options.ids } : {}) });
const receive = (store: Inbox, messages: Message[]) => store.transaction(async (tx) => { for (const m of messages) await store.receive(tx, m); });
const claimInbox = (store: Inbox, options: { deadKey?: DeadKeyPolicy } = {}) =>
  store.claimDue({ token: token(), leaseMs: LONG, limit: 100, ...(options.deadKey ? { deadKey: options.deadKey } : {}) });

const o = (name: string, run: (outbox: Outbox) => Promise<void>): StorageCase => ({ name: `outbox: ordering: ${name}`, run: (stores) => run(stores.outbox) });
const i = (name: string, run: (inbox: Inbox) => Promise<void>): StorageCase => ({ name: `inbox: ordering: ${name}`, run: (stores) => run(stores.inbox) });

/** Per-key ordering (`Message.key`): what every store must do with keyed rows, on both sides. */
export const orderingCases: StorageCase[] = [
  o('a key round-trips in records and claims; an unkeyed message has none', async (store) => {
    const withKey = keyed('account 42');
    const without = keyed(undefined);
    await add(store, [withKey, without]);
    expect((await store.get(withKey.id))?.key).toBe('account 42');
    expect((await store.get(without.id))?.key).toBeUndefined();
    expect((await store.list({ ids: [withKey.id] }))[0]?.key).toBe('account 42');
    const claimed = await claim(store);
    expect(claimed.find((r) => r.id === withKey.id)?.key).toBe('account 42');
    expect(claimed.find((r) => r.id === without.id)?.key).toBeUndefined();
  }),

  o('claimDue takes only the first waiting message of each key, every unkeyed one, and the next once the first is sent', async (store) => {
    const a = [keyed('a'), keyed('a'), keyed('a')];
    const b = [keyed('b'), keyed('b')];
    const free = [keyed(undefined), keyed(undefined)];
    await add(store, [a[0]!, b[0]!, free[0]!, a[1]!, b[1]!, free[1]!, a[2]!]);
    const first = await claim(store);
    expect(sorted(ids(first))).toEqual(sorted([a[0]!.id, b[0]!.id, ...ids(free)]));
    expect(await claim(store)).toEqual([]);
    await store.markSent(first.filter((r) => r.id === a[0]!.id));
    expect(ids(await claim(store))).toEqual([a[1]!.id]);
  }),

  o('order is insert order (across transactions and within one add), not id or creation-time order', async (store) => {
    const late = createMessage({ type: 'ordered.event', payload: 1, source: 'conformance', key: 'k', id: 'zzz-first' }, { now: new Date(Date.now() + 60_000) });
    const early = createMessage({ type: 'ordered.event', payload: 2, source: 'conformance', key: 'k', id: 'aaa-second' }, { now: new Date(Date.now() - 60_000) });
    const third = createMessage({ type: 'ordered.event', payload: 3, source: 'conformance', key: 'k', id: 'mmm-third' }, { now: new Date() });
    await add(store, [late]);
    await add(store, [early, third]);
    const seen: string[] = [];
    for (let n = 0; n < 3; n++) {
      const rows = await claim(store);
      expect(rows).toHaveLength(1);
      seen.push(rows[0]!.id);
      expect(await store.markSent(rows)).toEqual([rows[0]!.id]);
    }
    expect(seen).toEqual(['zzz-first', 'aaa-second', 'mmm-third']);
  }),

  o('a claimed (in-flight) or retrying message holds its key: the next is not claimed, also by id', async (store) => {
    const [first, second] = [keyed('held'), keyed('held')];
    await add(store, [first!, second!]);
    const [row] = await claim(store);
    expect(row?.id).toBe(first!.id);
    expect(await claim(store, { ids: [second!.id] })).toEqual([]);
    expect(await store.scheduleRetry(row!, { delayMs: LONG, error: 'receiver down' })).toBe(true);
    expect(await claim(store)).toEqual([]);
    expect(await claim(store, { ids: [first!.id, second!.id] })).toEqual([]);
  }),

  o('a retried first message is claimed again before the rest of its key', async (store) => {
    const [first, second] = [keyed('retry'), keyed('retry')];
    await add(store, [first!, second!]);
    const [row] = await claim(store);
    await store.scheduleRetry(row!, { delayMs: 0, error: 'boom' });
    expect(ids(await claim(store))).toEqual([first!.id]);
  }),

  o("dead blocks its key with deadKey 'block' (the default) until replayed; 'skip' passes it over", async (store) => {
    const [first, second, third] = [keyed('dead'), keyed('dead'), keyed('dead')];
    await add(store, [first!, second!, third!]);
    const [row] = await claim(store);
    expect(await store.markDead(row!, { error: 'poison' })).toBe(true);
    expect(await claim(store)).toEqual([]);
    expect(await claim(store, { deadKey: 'block' })).toEqual([]);
    expect(await store.replay({ ids: [first!.id] })).toBe(1);
    const again = await claim(store);
    expect(ids(again)).toEqual([first!.id]);
    await store.markDead(again[0]!, { error: 'poison again' });
    const skipped = await claim(store, { deadKey: 'skip' });
    expect(ids(skipped)).toEqual([second!.id]);
    expect(await claim(store, { deadKey: 'skip' })).toEqual([]);
    await store.markSent(skipped);
    expect(ids(await claim(store, { deadKey: 'skip' }))).toEqual([third!.id]);
  }),

  o('keys are independent, and a sent message holds nothing', async (store) => {
    const x = [keyed('x'), keyed('x')];
    const y = [keyed('y')];
    await add(store, [x[0]!]);
    const [sent] = await claim(store);
    await store.markSent([sent!]);
    await add(store, [x[1]!, y[0]!]);
    expect(sorted(ids(await claim(store)))).toEqual(sorted([x[1]!.id, y[0]!.id]));
  }),

  o('blockedKeys names the keys with a waiting message (and dead ones under block), inside the transaction', async (store) => {
    if (!store.blockedKeys) throw new Error('this store has no blockedKeys: the outbox sends every keyed message through the worker (implement it to send them right after commit)');
    const [p, d, s] = [keyed('pending'), keyed('dead'), keyed('sent')];
    await add(store, [p!, d!, s!]);
    const rows = await claim(store);
    await store.markDead(rows.find((r) => r.id === d!.id)!, { error: 'x' });
    await store.markSent(rows.filter((r) => r.id === s!.id));
    const keys = ['pending', 'dead', 'sent', 'unknown'];
    expect(sorted(await store.transaction((tx) => store.blockedKeys!(tx, keys, { deadKey: 'block' })))).toEqual(['dead', 'pending']);
    expect(await store.transaction((tx) => store.blockedKeys!(tx, keys, { deadKey: 'skip' }))).toEqual(['pending']);
    const fresh = keyed('fresh');
    const inTx = await store.transaction(async (tx) => {
      await store.add(tx, [fresh]);
      return store.blockedKeys!(tx, ['fresh'], { deadKey: 'block' });
    });
    expect(inTx).toEqual(['fresh']);
  }),

  o('add with a claim writes the ids in `unclaimed` unclaimed', async (store) => {
    const [held, left] = [keyed('u'), keyed('u')];
    const t = token();
    await add(store, [held!, left!], { claim: { token: t, leaseMs: LONG }, unclaimed: new Set([left!.id]) });
    expect(await store.get(held!.id)).toMatchObject({ attempts: 1 });
    expect((await store.get(held!.id))?.leaseUntil).not.toBeNull();
    expect(await store.get(left!.id)).toMatchObject({ attempts: 0, leaseUntil: null });
    expect(await store.markSent([{ id: held!.id, token: t }])).toEqual([held!.id]);
    expect(ids(await claim(store))).toEqual([left!.id]);
  }),

  o('concurrent claimers never hold two messages of one key, and see each key in insert order', async (store) => {
    const keys = Array.from({ length: 8 }, (_, n) => `c${n}`);
    const expected = new Map(keys.map((key) => [key, [] as string[]]));
    const messages: Message[] = [];
    for (let round = 0; round < 4; round++) {
      for (const key of keys) {
        const m = keyed(key);
        messages.push(m);
        expected.get(key)!.push(m.id);
      }
    }
    await add(store, messages);
    const inFlight = new Set<string>();
    const seen = new Map(keys.map((key) => [key, [] as string[]]));
    let done = 0;
    const worker = async () => {
      for (let idle = 0; done < messages.length && idle < 200; ) {
        const rows = await claim(store, { limit: 3 });
        if (rows.length === 0) {
          idle++;
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        for (const row of rows) {
          expect(inFlight.has(row.key!), `two messages of key ${row.key} in flight`).toBe(false);
          inFlight.add(row.key!);
          seen.get(row.key!)!.push(row.id);
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
        for (const row of rows) inFlight.delete(row.key!);
        expect(sorted(await store.markSent(rows))).toEqual(sorted(ids(rows)));
        done += rows.length;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(done).toBe(messages.length);
    expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(expected));
  }),

  i('a key is stored; claimDue takes the first received message of each (source, key), the next once it is processed', async (store) => {
    const a1 = keyed('k', { source: 'alpha' });
    const a2 = keyed('k', { source: 'alpha' });
    const b1 = keyed('k', { source: 'beta' });
    const free = keyed(undefined, { source: 'alpha' });
    await receive(store, [a1, b1]);
    await receive(store, [a2, free]);
    expect((await store.get(a1))?.key).toBe('k');
    expect((await store.get(free))?.key).toBeUndefined();
    const first = await claimInbox(store);
    expect(sorted(ids(first))).toEqual(sorted([a1.id, b1.id, free.id]));
    expect(await claimInbox(store)).toEqual([]);
    const rowA1 = first.find((r) => r.id === a1.id && r.source === 'alpha')!;
    expect(await store.transaction((tx) => store.markProcessed(tx, rowA1))).toBe(true);
    expect(ids(await claimInbox(store))).toEqual([a2.id]);
  }),

  i('receive order is the order, not ids; a retrying message holds its key', async (store) => {
    const first = keyed('r', { id: 'zzz-first' });
    const second = keyed('r', { id: 'aaa-second' });
    await receive(store, [first]);
    await receive(store, [second]);
    const [row] = await claimInbox(store);
    expect(row?.id).toBe('zzz-first');
    await store.scheduleRetry(row!, { delayMs: LONG, error: 'handler threw' });
    expect(await claimInbox(store)).toEqual([]);
    expect(await claimInbox(store, { deadKey: 'skip' })).toEqual([]);
  }),

  i('dead holds its key under block until replayed; skip passes it over', async (store) => {
    const [first, second] = [keyed('d'), keyed('d')];
    await receive(store, [first!, second!]);
    const [row] = await claimInbox(store);
    expect(await store.markDead(row!, { error: 'poison' })).toBe(true);
    expect(await claimInbox(store)).toEqual([]);
    expect(ids(await claimInbox(store, { deadKey: 'skip' }))).toEqual([second!.id]);
  }),

  i('blockedKeys names (source, key) pairs with an unprocessed message, inside the transaction', async (store) => {
    if (!store.blockedKeys) throw new Error('this store has no blockedKeys: the inbox hands every keyed message to the worker (implement it to handle them at once)');
    const waiting = keyed('w', { source: 'alpha' });
    await receive(store, [waiting]);
    const asked = [{ source: 'alpha', key: 'w' }, { source: 'beta', key: 'w' }, { source: 'alpha', key: 'none' }];
    expect(await store.transaction((tx) => store.blockedKeys!(tx, asked, { deadKey: 'block' }))).toEqual([{ source: 'alpha', key: 'w' }]);
    const [row] = await claimInbox(store);
    await store.transaction((tx) => store.markProcessed(tx, row!));
    expect(await store.transaction((tx) => store.blockedKeys!(tx, asked, { deadKey: 'block' }))).toEqual([]);
  }),
];
