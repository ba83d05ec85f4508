import type { InboxStore, Message, OutboxStore, RecordCursor, TypeCounts } from '@messagebox/core';
import { expect } from 'vitest';
import { LONG, message, token } from './fixtures.js';
import type { StorageCase, StorageUnderTest } from './types.js';

// What the dashboard reads: `count`, `overview` (both optional on the ports) and keyset paging of `list` (`after`).

type Outbox = OutboxStore<unknown>;
type Inbox = InboxStore<unknown>;
type Skip = { skip(reason: string): void };

/** `name` starts with the store it checks (`outbox.…`, `inbox.…`), which prefixes the case name as the suite's convention asks. */
const c = (name: string, run: (stores: StorageUnderTest<unknown, unknown>, ctx: Skip) => Promise<void>): StorageCase => ({ name: `${name.startsWith('outbox.') ? 'outbox' : 'inbox'}: operations: ${name}`, run });

const add = (store: Outbox, messages: readonly Message[]) => store.transaction((tx) => store.add(tx, messages));
const receive = (store: Inbox, messages: readonly Message[]) =>
  store.transaction(async (tx) => {
    for (const m of messages) await store.receive(tx, m);
  });
const at = (ms: number, m: Message): Message => ({ ...m, createdAt: new Date(ms) });

/**
 * An outbox holding, of `a.type`: 2 pending (one of them claimed, in flight),
 * 1 sent, 1 dead ("boom"); of `b.type`: 1 pending with 3 attempts so far.
 */
async function outboxOfEveryStatus(store: Outbox) {
  const base = Date.now() - 60_000;
  const a = [0, 1, 2, 3].map((i) => at(base + i * 1_000, message('ops.a')));
  const b = at(base + 10_000, message('ops.b'));
  await add(store, [...a, b]);
  const claimOne = async (id: string) => (await store.claimDue({ ids: [id], limit: 1, leaseMs: LONG, token: token() }))[0]!;
  expect(await store.markSent([await claimOne(a[2]!.id)])).toEqual([a[2]!.id]);
  expect(await store.markDead(await claimOne(a[3]!.id), { error: 'boom' })).toBe(true);
  for (let n = 0; n < 3; n++) await store.scheduleRetry(await claimOne(b.id), { delayMs: 0, error: `try ${n}` });
  await claimOne(a[1]!.id); // in flight
  return { a, b };
}

const byType = (types: readonly TypeCounts[], type: string) => types.find((t) => t.type === type);

export const operationsCases: StorageCase[] = [
  c('outbox.count counts what list would return, ignoring limit and after', async ({ outbox: store }, ctx) => {
    if (!store.count) return ctx.skip('this outbox store has no count()');
    const { a, b } = await outboxOfEveryStatus(store);
    expect(await store.count()).toBe(5);
    expect(await store.count({ status: 'pending' })).toBe(3);
    expect(await store.count({ status: 'pending', type: 'ops.a' })).toBe(2);
    expect(await store.count({ status: 'dead', errorContains: 'boo' })).toBe(1);
    expect(await store.count({ errorContains: 'try' })).toBe(1);
    expect(await store.count({ ids: [a[0]!.id, b.id, 'absent'] })).toBe(2);
    expect(await store.count({ before: a[2]!.createdAt })).toBe(2);
    expect(await store.count({ limit: 1, after: { at: a[3]!.createdAt, id: a[3]!.id, source: a[3]!.source } })).toBe(5);
    expect(await store.count({ ids: [] })).toBe(0);
  }),

  c('inbox.count counts by status, type and source', async ({ inbox: store }, ctx) => {
    if (!store.count) return ctx.skip('this inbox store has no count()');
    const base = message('ops.a');
    await receive(store, [{ ...base, source: 'sender-a' }, { ...base, source: 'sender-b' }, message('ops.b')]);
    const [row] = await store.claimDue({ limit: 1, leaseMs: LONG, token: token(), types: ['ops.b'] });
    await store.markDead(row!, { error: 'handler gave up' });
    expect(await store.count()).toBe(3);
    expect(await store.count({ status: 'received' })).toBe(2);
    expect(await store.count({ source: 'sender-b' })).toBe(1);
    expect(await store.count({ ids: [base.id] })).toBe(2);
    expect(await store.count({ source: 'sender-a', ids: [base.id] })).toBe(1);
    expect(await store.count({ status: 'dead', type: 'ops.b', errorContains: 'gave up' })).toBe(1);
    expect(await store.count({ status: 'processed' })).toBe(0);
  }),

  c('outbox.overview: per type waiting, in flight, sent, dead, oldest waiting and attempts; sent rows bucketed by send time', async ({ outbox: store }, ctx) => {
    if (!store.overview) return ctx.skip('this outbox store has no overview()');
    const { a, b } = await outboxOfEveryStatus(store);
    const bucketMs = 60_000;
    const overview = await store.overview({ sinceMs: 3_600_000, bucketMs });
    expect(overview.types.map((t) => t.type)).toEqual(['ops.a', 'ops.b']);
    expect(byType(overview.types, 'ops.a')).toMatchObject({ waiting: 2, inFlight: 1, finished: 1, dead: 1, waitingAttempts: 1, maxAttempts: 1 });
    expect(byType(overview.types, 'ops.a')!.oldestWaitingAt?.getTime()).toBe(a[0]!.createdAt.getTime());
    expect(byType(overview.types, 'ops.b')).toMatchObject({ waiting: 1, inFlight: 0, finished: 0, dead: 0, waitingAttempts: 3, maxAttempts: 3 });
    expect(byType(overview.types, 'ops.b')!.oldestWaitingAt?.getTime()).toBe(b.createdAt.getTime());
    expect(overview.finished).toHaveLength(1);
    const [bucket] = overview.finished;
    expect(bucket).toMatchObject({ type: 'ops.a', finished: 1 });
    expect(bucket!.start.getTime() % bucketMs).toBe(0);
    expect(Math.abs(bucket!.start.getTime() - Date.now())).toBeLessThan(2 * bucketMs);
    // Counts do not depend on the window.
    expect((await store.overview({ sinceMs: 1, bucketMs })).types).toEqual(overview.types);
  }),

  c('inbox.overview: per type received, in flight, processed, dead and the oldest waiting receive time', async ({ inbox: store }, ctx) => {
    if (!store.overview) return ctx.skip('this inbox store has no overview()');
    const before = Date.now();
    await receive(store, [message('ops.a'), message('ops.a'), message('ops.b')]);
    const [processed] = await store.claimDue({ limit: 1, leaseMs: LONG, token: token(), types: ['ops.b'] });
    expect(await store.transaction((tx) => store.markProcessed(tx, processed!))).toBe(true);
    await store.claimDue({ limit: 1, leaseMs: LONG, token: token(), types: ['ops.a'] });
    const overview = await store.overview({ sinceMs: 3_600_000, bucketMs: 1_000 });
    expect(byType(overview.types, 'ops.a')).toMatchObject({ waiting: 2, inFlight: 1, finished: 0, dead: 0, waitingAttempts: 1, maxAttempts: 1 });
    expect(byType(overview.types, 'ops.b')).toMatchObject({ waiting: 0, inFlight: 0, finished: 1, dead: 0, oldestWaitingAt: null });
    expect(Math.abs(byType(overview.types, 'ops.a')!.oldestWaitingAt!.getTime() - before)).toBeLessThan(60_000);
    expect(overview.finished.map((f) => [f.type, f.finished])).toEqual([['ops.b', 1]]);
    expect(overview.finished[0]!.start.getTime() % 1_000).toBe(0);
  }),

  c('outbox.list with after pages through every row once, in created time then id order (ties on time broken by id)', async ({ outbox: store }) => {
    const base = Date.now() - 60_000;
    // Two pairs share a created time; ids sort against insertion order.
    const rows = [at(base + 2, { ...message('ops.p'), id: 'p-3' }), at(base, { ...message('ops.p'), id: 'p-2' }), at(base, { ...message('ops.p'), id: 'p-1' }), at(base + 2, { ...message('ops.p'), id: 'p-0' }), at(base + 1, { ...message('ops.p'), id: 'p-9' })];
    await add(store, rows);
    const expected = ['p-1', 'p-2', 'p-9', 'p-0', 'p-3'];
    expect((await store.list({ limit: 100 })).map((r) => r.id)).toEqual(expected);
    const seen: string[] = [];
    let after: RecordCursor | undefined;
    for (let page = 0; page < 10; page++) {
      const got = await store.list({ limit: 2, ...(after ? { after } : {}) });
      if (got.length === 0) break;
      seen.push(...got.map((r) => r.id));
      const last = got.at(-1)!;
      after = { at: last.createdAt, id: last.id, source: last.source };
    }
    expect(seen).toEqual(expected);
    expect((await store.list({ type: 'ops.p', after: { at: new Date(base), id: 'p-1', source: 'conformance' } })).map((r) => r.id)).toEqual(expected.slice(1));
  }),

  c('inbox.list with after pages through every row once, the same id from two sources included (ties broken by id, then source)', async ({ inbox: store }) => {
    const shared = message('ops.p');
    const messages = [{ ...shared, source: 'sender-b' }, { ...shared, source: 'sender-a' }, { ...message('ops.p'), id: `${shared.id}-z` }, { ...message('ops.p'), id: `0-${shared.id}` }];
    await receive(store, messages);
    const all = await store.list({ limit: 100 });
    expect(all).toHaveLength(4);
    const key = (r: { source: string; id: string }) => `${r.source}/${r.id}`;
    for (let i = 1; i < all.length; i++) {
      const [p, q] = [all[i - 1]!, all[i]!];
      const order = p.receivedAt.getTime() - q.receivedAt.getTime() || (p.id < q.id ? -1 : p.id > q.id ? 1 : 0) || (p.source < q.source ? -1 : 1);
      expect(order, `${key(p)} before ${key(q)}`).toBeLessThan(0);
    }
    const seen: string[] = [];
    let after: RecordCursor | undefined;
    for (let page = 0; page < 10; page++) {
      const got = await store.list({ limit: 1, ...(after ? { after } : {}) });
      if (got.length === 0) break;
      seen.push(...got.map(key));
      const last = got[0]!;
      after = { at: last.receivedAt, id: last.id, source: last.source };
    }
    expect(seen).toEqual(all.map(key));
  }),
];
