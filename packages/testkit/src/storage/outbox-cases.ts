import { newMessageId, type OutboxStore } from '@messagebox/core';
import { expect } from 'vitest';
import { AFTER_SHORT, eventually, ids, LONG, message, SHORT, sleep, sorted, token } from './fixtures.js';
import type { StorageCase } from './types.js';

type Store = OutboxStore<unknown>;
const add = (store: Store, messages: Parameters<Store['add']>[1], options?: Parameters<Store['add']>[2]) =>
  store.transaction((tx) => store.add(tx, messages, options));
const claim = (store: Store, options: { ids?: string[]; types?: string[]; limit?: number; leaseMs?: number; token?: string } = {}) =>
  store.claimDue({
    token: options.token ?? token(),
    leaseMs: options.leaseMs ?? LONG,
    limit: options.limit ?? 100,
    ...(options.ids ? { ids: options.ids } : {}),
    ...(options.types ? { types: options.types } : {}),
  });

const c = (name: string, run: (outbox: Store, ctx: { skip(reason: string): void }) => Promise<void>): StorageCase => ({
  name: `outbox: ${name}`,
  run: (stores, ctx) => run(stores.outbox, ctx),
});

export const outboxCases: StorageCase[] = [
  c('add inside a committed transaction stores pending rows with their content', async (store) => {
    const m = message('order.created', { total: 12.5, items: ['a', 'b'], note: 'ünïcødé ✓', nested: { ok: true, none: null } }, { traceparent: '00-abc-01' });
    await add(store, [m]);
    const row = await store.get(m.id);
    expect(row).not.toBeNull();
    expect(row).toMatchObject({ id: m.id, source: m.source, type: m.type, payload: m.payload, headers: m.headers, status: 'pending', attempts: 0, lastError: null, sentAt: null, leaseUntil: null });
    expect(row!.createdAt.getTime()).toBe(m.createdAt.getTime());
    expect(row!.availableAt).toBeInstanceOf(Date);
  }),

  c('add inside a rolled-back transaction stores nothing', async (store) => {
    const m = message();
    const failure = new Error('business rule broken');
    await expect(store.transaction(async (tx) => { await store.add(tx, [m]); throw failure; })).rejects.toBe(failure);
    expect(await store.get(m.id)).toBeNull();
    expect((await store.stats()).pending).toBe(0);
    expect(await claim(store)).toEqual([]);
  }),

  c('add rejects a duplicate id', async (store) => {
    const m = message();
    await add(store, [m]);
    await expect(add(store, [m])).rejects.toBeDefined();
    expect((await store.stats()).pending).toBe(1);
  }),

  c('add writes many messages in one call', async (store) => {
    const many = Array.from({ length: 1203 }, () => message());
    await add(store, many);
    expect((await store.stats()).pending).toBe(1203);
  }),

  c('payload and headers round-trip exactly', async (store) => {
    const payloads = [null, 0, -1.5e-7, 'text with "quotes" and \\ and \n', [1, [2, [3]]], { a: { b: { c: 'deep' } }, emoji: '🎉', big: 'x'.repeat(100_000) }, true];
    const messages = payloads.map((p) => message('payload.check', p, { 'x-key': 'välue' }));
    await add(store, messages);
    for (const m of messages) {
      const row = await store.get(m.id);
      expect(row?.payload).toEqual(m.payload);
      expect(row?.headers).toEqual({ 'x-key': 'välue' });
    }
  }),

  c('claimDue claims due rows, sets token and lease, increments attempts', async (store) => {
    const messages = [message(), message(), message()];
    await add(store, messages);
    const t = token();
    const before = Date.now();
    const claimed = await claim(store, { token: t, leaseMs: LONG });
    expect(sorted(ids(claimed))).toEqual(sorted(ids(messages)));
    for (const row of claimed) {
      expect(row.token).toBe(t);
      expect(row.attempts).toBe(1);
      expect(row.status).toBe('pending');
      expect(row.leaseUntil!.getTime()).toBeGreaterThan(before + LONG / 2);
    }
    const stored = await store.get(messages[0]!.id);
    expect(stored?.attempts).toBe(1);
    expect(stored?.leaseUntil).not.toBeNull();
  }),

  c('claimDue respects limit and returns the oldest due first', async (store) => {
    const messages = [message(), message(), message()];
    for (const m of messages) {
      await add(store, [m]);
      await sleep(5);
    }
    const first = await claim(store, { limit: 2 });
    expect(ids(first)).toEqual([messages[0]!.id, messages[1]!.id]);
    const rest = await claim(store, { limit: 2 });
    expect(ids(rest)).toEqual([messages[2]!.id]);
    expect(await claim(store, { limit: 0 })).toEqual([]);
  }),

  c('claimDue with types claims only those types; an empty list claims nothing', async (store) => {
    const [a, b] = [message('kind.a'), message('kind.b')];
    await add(store, [a!, b!]);
    expect(await claim(store, { types: [] })).toEqual([]);
    expect(ids(await claim(store, { types: ['kind.b', 'kind.z'] }))).toEqual([b!.id]);
    expect(ids(await claim(store))).toEqual([a!.id]);
  }),

  c('claimDue with a types filter that excludes a destination leaves its due rows untouched, and a claim of one of them takes exactly one (circuit breaker probe)', async (store) => {
    const down = [message('to.down'), message('to.down'), message('to.down')];
    const up = [message('to.up'), message('to.up')];
    await add(store, [...down, ...up]);
    expect(sorted(ids(await claim(store, { types: ['to.up'], limit: 10 })))).toEqual(sorted(ids(up)));
    for (const m of down) expect(await store.get(m.id)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
    const probe = await claim(store, { types: ['to.down'], limit: 1 });
    expect(probe).toHaveLength(1);
    expect(probe[0]).toMatchObject({ type: 'to.down', attempts: 1 });
    expect(await store.release(probe)).toBe(1);
    expect(await store.get(probe[0]!.id)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
    expect(sorted(ids(await claim(store, { types: ['to.down'], limit: 10 })))).toEqual(sorted(ids(down)));
  }),

  c('destination states: save replaces the row of its (destination, worker), list orders them, clear deletes one worker\'s rows', async (store, ctx) => {
    if (!store.saveDestinationState || !store.listDestinationStates || !store.clearDestinationStates) return ctx.skip('the store keeps no destination states (optional members)');
    const at = (ms: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + ms);
    const open = { destination: 'billing', worker: 'shop@1', breaker: 'open' as const, consecutiveFailures: 10, openUntil: at(5_000), pausedUntil: null, updatedAt: at(0) };
    await store.saveDestinationState(open);
    await store.saveDestinationState({ ...open, worker: 'shop@2', breaker: 'closed', consecutiveFailures: 0, openUntil: null, pausedUntil: at(3_000) });
    await store.saveDestinationState({ ...open, destination: 'audit ünï', breaker: 'half-open' });
    await store.saveDestinationState({ ...open, breaker: 'closed', consecutiveFailures: 0, openUntil: null, updatedAt: at(9_000) });
    expect(await store.listDestinationStates()).toEqual([
      { ...open, destination: 'audit ünï', breaker: 'half-open' },
      { ...open, breaker: 'closed', consecutiveFailures: 0, openUntil: null, updatedAt: at(9_000) },
      { ...open, worker: 'shop@2', breaker: 'closed', consecutiveFailures: 0, openUntil: null, pausedUntil: at(3_000) },
    ]);
    expect(await store.clearDestinationStates('shop@1')).toBe(2);
    expect((await store.listDestinationStates()).map((r) => r.worker)).toEqual(['shop@2']);
    expect(await store.clearDestinationStates('nobody')).toBe(0);
  }),

  c('claimDue with ids considers only those rows', async (store) => {
    const [a, b, c2] = [message(), message(), message()];
    await add(store, [a!, b!, c2!]);
    expect(ids(await claim(store, { ids: [b!.id, 'no-such-id'] }))).toEqual([b!.id]);
    expect(await claim(store, { ids: [] })).toEqual([]);
    expect(sorted(ids(await claim(store)))).toEqual(sorted([a!.id, c2!.id]));
  }),

  c('a live lease blocks a second claim', async (store) => {
    const m = message();
    await add(store, [m]);
    expect(ids(await claim(store, { leaseMs: LONG }))).toEqual([m.id]);
    expect(await claim(store)).toEqual([]);
    expect((await store.get(m.id))?.attempts).toBe(1);
  }),

  c('an expired lease lets another claimer take over', async (store) => {
    const m = message();
    await add(store, [m]);
    expect(ids(await claim(store, { leaseMs: SHORT }))).toEqual([m.id]);
    await sleep(AFTER_SHORT);
    const t = token();
    const taken = await claim(store, { token: t });
    expect(ids(taken)).toEqual([m.id]);
    expect(taken[0]).toMatchObject({ token: t, attempts: 2 });
  }),

  c('markSent marks owned rows in one call and returns their ids', async (store) => {
    const messages = [message(), message(), message()];
    await add(store, messages);
    const claimed = await claim(store);
    const marked = await store.markSent(claimed.map((r) => ({ id: r.id, token: r.token })));
    expect(sorted(marked)).toEqual(sorted(ids(messages)));
    for (const m of messages) {
      const row = await store.get(m.id);
      expect(row).toMatchObject({ status: 'sent', leaseUntil: null });
      expect(row?.sentAt).toBeInstanceOf(Date);
    }
    expect(await claim(store)).toEqual([]);
    expect(await store.markSent([])).toEqual([]);
  }),

  c('markSent ignores a wrong token and an unknown id', async (store) => {
    const m = message();
    await add(store, [m]);
    await claim(store);
    expect(await store.markSent([{ id: m.id, token: 'not-the-token' }, { id: 'no-such-id', token: 'x' }])).toEqual([]);
    expect((await store.get(m.id))?.status).toBe('pending');
  }),

  c('fencing: a worker whose lease expired cannot mark sent after another claimed', async (store) => {
    const m = message();
    await add(store, [m]);
    const [late] = await claim(store, { leaseMs: SHORT });
    await sleep(AFTER_SHORT);
    const [owner] = await claim(store, { leaseMs: LONG });
    expect(owner?.id).toBe(m.id);
    expect(await store.markSent([{ id: m.id, token: late!.token }])).toEqual([]);
    const row = await store.get(m.id);
    expect(row?.status).toBe('pending');
    expect(row?.leaseUntil).not.toBeNull();
    expect(await store.markSent([{ id: m.id, token: owner!.token }])).toEqual([m.id]);
    expect((await store.get(m.id))?.status).toBe('sent');
  }),

  c('fencing: scheduleRetry, markDead and release with a lost claim change nothing', async (store) => {
    const m = message();
    await add(store, [m]);
    const [late] = await claim(store, { leaseMs: SHORT });
    await sleep(AFTER_SHORT);
    const [owner] = await claim(store, { leaseMs: LONG });
    const lost = { id: m.id, token: late!.token };
    const leaseBefore = (await store.get(m.id))?.leaseUntil?.getTime();
    expect(await store.scheduleRetry(lost, { delayMs: LONG, error: 'late failure' })).toBe(false);
    expect(await store.markDead(lost, { error: 'late death' })).toBe(false);
    expect(await store.release([lost])).toBe(0);
    const row = await store.get(m.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 2, lastError: null });
    expect(row?.leaseUntil?.getTime()).toBe(leaseBefore);
    expect(await store.markDead({ id: m.id, token: owner!.token }, { error: 'owner gave up' })).toBe(true);
  }),

  c('scheduleRetry keeps the row pending, not due before its delay, with lastError', async (store) => {
    const m = message();
    await add(store, [m]);
    const [row] = await claim(store);
    const before = Date.now();
    expect(await store.scheduleRetry({ id: m.id, token: row!.token }, { delayMs: LONG, error: 'receiver said 503' })).toBe(true);
    const stored = await store.get(m.id);
    expect(stored).toMatchObject({ status: 'pending', lastError: 'receiver said 503', leaseUntil: null, attempts: 1 });
    expect(stored!.availableAt.getTime()).toBeGreaterThan(before + LONG / 2);
    expect(await claim(store)).toEqual([]);
    expect(await store.scheduleRetry({ id: m.id, token: row!.token }, { delayMs: 0, error: 'again' })).toBe(false);
  }),

  c('a retried row is due again after its delay, lastError kept', async (store) => {
    const m = message();
    await add(store, [m]);
    const [row] = await claim(store);
    await store.scheduleRetry({ id: m.id, token: row!.token }, { delayMs: 100, error: 'timeout' });
    await sleep(300);
    const [again] = await claim(store);
    expect(again).toMatchObject({ id: m.id, attempts: 2, lastError: 'timeout' });
  }),

  c('markDead keeps the row with its error and out of claims', async (store) => {
    const m = message();
    await add(store, [m]);
    const [row] = await claim(store);
    expect(await store.markDead({ id: m.id, token: row!.token }, { error: '400 Bad Request' })).toBe(true);
    expect(await store.get(m.id)).toMatchObject({ status: 'dead', lastError: '400 Bad Request', leaseUntil: null });
    expect(await claim(store)).toEqual([]);
    expect((await store.stats()).dead).toBe(1);
  }),

  c('release of 1,200 claims, each with its own token (after-commit claims given back), gives every row back', async (store) => {
    const messages = Array.from({ length: 1_200 }, () => message());
    const claims = messages.map((m, i) => ({ id: m.id, token: `release-${i}-${m.id}` }));
    await store.transaction(async (tx) => {
      for (const [i, m] of messages.entries()) await store.add(tx, [m], { claim: { token: claims[i]!.token, leaseMs: LONG } });
    });
    expect(await store.release(claims)).toBe(1_200);
    expect(await store.get(messages[1_199]!.id)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
    expect((await store.claimDue({ limit: 2_000, leaseMs: LONG, token: 'again' })).length).toBe(1_200);
  }),

  c('release gives rows back: attempts decremented, claimable at once', async (store) => {
    const messages = [message(), message()];
    await add(store, messages);
    const claimed = await claim(store, { leaseMs: LONG });
    expect(await store.release(claimed.map((r) => ({ id: r.id, token: r.token })))).toBe(2);
    expect(await store.get(messages[0]!.id)).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
    const again = await claim(store);
    expect(sorted(ids(again))).toEqual(sorted(ids(messages)));
    expect(again.every((r) => r.attempts === 1)).toBe(true);
    expect(await store.release([])).toBe(0);
  }),

  c('an insert-time claim writes rows already owned by its token', async (store) => {
    const m = message();
    const t = token();
    await add(store, [m], { claim: { token: t, leaseMs: LONG } });
    const row = await store.get(m.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row?.leaseUntil).not.toBeNull();
    expect(await claim(store)).toEqual([]);
    expect(await store.markSent([{ id: m.id, token: 'someone-else' }])).toEqual([]);
    expect(await store.markSent([{ id: m.id, token: t }])).toEqual([m.id]);
  }),

  c('an insert-time lease counts from the insert: held past it, the row is claimable and the first token is fenced out', async (store) => {
    const m = message();
    const first = token();
    await store.transaction(async (tx) => {
      await store.add(tx, [m], { claim: { token: first, leaseMs: SHORT } });
      await sleep(AFTER_SHORT); // the business transaction goes on after the add, past the lease
    });
    const second = token();
    let taken = await claim(store, { token: second });
    // A store that writes the rows of its own transactions at COMMIT (Postgres) inserted it there: its lease runs from then.
    if (taken.length === 0) {
      await sleep(AFTER_SHORT);
      taken = await claim(store, { token: second });
    }
    expect(ids(taken)).toEqual([m.id]);
    expect(taken[0]).toMatchObject({ token: second, attempts: 2 });
    expect(await store.markSent([{ id: m.id, token: first }])).toEqual([]);
    expect(await store.release([{ id: m.id, token: first }])).toBe(0);
    expect(await store.markSent([{ id: m.id, token: second }])).toEqual([m.id]);
  }),

  c('an insert-time claim given back is claimed again by ids with a fresh lease, attempts unchanged (the re-claim before a late attempt)', async (store) => {
    const m = message();
    const first = token();
    await add(store, [m], { claim: { token: first, leaseMs: LONG } });
    expect(await store.release([{ id: m.id, token: first }])).toBe(1);
    const second = token();
    const before = Date.now();
    const [again] = await claim(store, { ids: [m.id], token: second, leaseMs: LONG });
    expect(again).toMatchObject({ id: m.id, token: second, attempts: 1 });
    expect(again!.leaseUntil!.getTime()).toBeGreaterThan(before + LONG / 2);
    expect(await store.markSent([{ id: m.id, token: first }])).toEqual([]);
    expect(await store.markSent([{ id: m.id, token: second }])).toEqual([m.id]);
  }),

  c('replay puts matching dead rows back to pending with attempts 0, lastError kept', async (store) => {
    const a = message('kind.a');
    const b = message('kind.b');
    await add(store, [a, b]);
    for (const row of await claim(store)) await store.markDead({ id: row.id, token: row.token }, { error: `dead ${row.type}` });
    expect(await store.replay({ type: 'kind.a' })).toBe(1);
    expect(await store.get(a.id)).toMatchObject({ status: 'pending', attempts: 0, lastError: 'dead kind.a', leaseUntil: null });
    expect((await store.get(b.id))?.status).toBe('dead');
    expect(ids(await claim(store))).toEqual([a.id]);
    expect(await store.replay({ ids: [b.id] })).toBe(1);
    expect((await store.get(b.id))?.status).toBe('pending');
  }),

  c('replay leaves pending and sent rows alone', async (store) => {
    const [p, s] = [message(), message()];
    await add(store, [p!, s!]);
    const [row] = await claim(store, { ids: [s!.id] });
    await store.markSent([{ id: s!.id, token: row!.token }]);
    expect(await store.replay({})).toBe(0);
    expect((await store.get(p!.id))?.status).toBe('pending');
    expect((await store.get(s!.id))?.status).toBe('sent');
  }),

  c('stats counts rows by status and gives the oldest pending', async (store) => {
    expect(await store.stats()).toEqual({ pending: 0, sent: 0, dead: 0, oldestPendingAt: null });
    const messages = [message(), message(), message(), message()];
    for (const m of messages) await add(store, [m]);
    const [s, d] = await claim(store, { limit: 2 });
    await store.markSent([{ id: s!.id, token: s!.token }]);
    await store.markDead({ id: d!.id, token: d!.token }, { error: 'x' });
    const stats = await store.stats();
    expect(stats).toMatchObject({ pending: 2, sent: 1, dead: 1 });
    expect(Math.abs(stats.oldestPendingAt!.getTime() - messages[2]!.createdAt.getTime())).toBeLessThan(5_000);
    for (const row of await claim(store)) await store.markSent([{ id: row.id, token: row.token }]);
    expect((await store.stats()).oldestPendingAt).toBeNull();
  }),

  c('list filters by status, type, ids, errorContains, before and limit, oldest first', async (store) => {
    const messages = [message('t.one'), message('t.two'), message('t.one'), message('t.two')];
    for (const m of messages) {
      await add(store, [m]);
      await sleep(3);
    }
    const [m0, m1, m2, m3] = messages as [typeof messages[0], typeof messages[0], typeof messages[0], typeof messages[0]];
    const claimed = await claim(store, { ids: [m1.id, m3.id] });
    for (const row of claimed) await store.markDead({ id: row.id, token: row.token }, { error: row.id === m1.id ? 'HTTP 500 from receiver' : 'timeout' });
    expect(ids(await store.list())).toEqual(ids(messages));
    expect(ids(await store.list({ status: 'dead' }))).toEqual([m1.id, m3.id]);
    expect(ids(await store.list({ type: 't.one' }))).toEqual([m0.id, m2.id]);
    expect(ids(await store.list({ ids: [m3.id, m0.id] }))).toEqual([m0.id, m3.id]);
    expect(ids(await store.list({ errorContains: 'HTTP 500' }))).toEqual([m1.id]);
    expect(ids(await store.list({ errorContains: 'http 500' }))).toEqual([]);
    expect(ids(await store.list({ errorContains: '%' }))).toEqual([]);
    expect(ids(await store.list({ limit: 2 }))).toEqual([m0.id, m1.id]);
    expect(ids(await store.list({ before: new Date(Date.now() + LONG) }))).toHaveLength(4);
    expect(await store.list({ before: new Date(Date.now() - LONG) })).toEqual([]);
    expect(ids(await store.list({ status: 'pending', type: 't.two' }))).toEqual([]);
  }),

  c('get returns null for an unknown id', async (store) => {
    expect(await store.get('no-such-id')).toBeNull();
  }),

  c('purge deletes old sent rows in bounded batches and nothing else', async (store) => {
    const sent = Array.from({ length: 5 }, () => message());
    const [pending, dead] = [message(), message()];
    await add(store, [...sent, pending!, dead!]);
    const claimed = await claim(store, { ids: ids(sent) });
    await store.markSent(claimed.map((r) => ({ id: r.id, token: r.token })));
    const [d] = await claim(store, { ids: [dead!.id] });
    await store.markDead({ id: dead!.id, token: d!.token }, { error: 'x' });
    expect(await store.purge({ olderThanMs: LONG, limit: 100 })).toBe(0);
    await sleep(30);
    expect(await store.purge({ olderThanMs: 5, limit: 2 })).toBe(2);
    expect(await store.purge({ olderThanMs: 5, limit: 2 })).toBe(2);
    expect(await store.purge({ olderThanMs: 5, limit: 2 })).toBe(1);
    expect(await store.purge({ olderThanMs: 5, limit: 2 })).toBe(0);
    expect(await store.stats()).toMatchObject({ pending: 1, sent: 0, dead: 1 });
  }),

  c('concurrent claimers never receive the same row', async (store) => {
    const messages = Array.from({ length: 120 }, () => message());
    await add(store, messages);
    const seen: string[] = [];
    const claimer = async () => {
      for (;;) {
        const rows = await claim(store, { limit: 7 });
        if (rows.length === 0) return;
        seen.push(...ids(rows));
      }
    };
    await Promise.all(Array.from({ length: 6 }, claimer));
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    const all = await store.list({ limit: 1000 });
    expect(all.every((r) => r.attempts === 1)).toBe(true);
  }),

  c('watch wakes a watcher when an add commits, not on rollback', async (store, ctx) => {
    if (!store.watch) return ctx.skip('this store has no watch (workers poll)');
    let wakes = 0;
    const unsubscribe = await store.watch(() => void wakes++);
    try {
      await expect(store.transaction(async (tx) => { await store.add(tx, [message()]); throw new Error('rollback'); })).rejects.toThrow('rollback');
      await sleep(200);
      expect(wakes).toBe(0);
      await add(store, [message()]);
      await eventually(() => wakes > 0, 5_000, 'a wake-up after commit');
    } finally {
      await unsubscribe();
    }
  }),
  {
    name: 'outbox: claimDue is oldest-due first, not id order, in the inbox too: ids that sort late but were due first are claimed first',
    async run({ outbox, inbox }) {
      const run = newMessageId();
      const late = [1, 2, 3].map((n) => ({ ...message('order.check'), id: `zz-${run}-${n}` }));
      const backlog = Array.from({ length: 60 }, (_, n) => ({ ...message('order.check'), id: `aa-${run}-${String(n).padStart(3, '0')}` }));
      const dueAt: number[] = [];
      for (const m of late) {
        const previous = dueAt.at(-1);
        if (previous !== undefined) await eventually(() => Date.now() > previous + 1, 5_000, 'the clock to pass the previous due time');
        await outbox.transaction((tx) => outbox.add(tx, [m]));
        await inbox.transaction((tx) => inbox.receive(tx, m));
        const times = [(await outbox.get(m.id))!.availableAt.getTime(), (await inbox.get(m))!.availableAt.getTime()];
        if (previous !== undefined) expect(Math.min(...times), 'precondition: each message due after the one before').toBeGreaterThan(previous);
        dueAt.push(Math.max(...times));
      }
      await eventually(() => Date.now() > dueAt.at(-1)! + 1, 5_000, 'the clock to pass the last due time');
      await outbox.transaction((tx) => outbox.add(tx, backlog));
      await inbox.transaction(async (tx) => {
        for (const m of backlog) await inbox.receive(tx, m);
      });
      expect((await outbox.get(backlog[0]!.id))!.availableAt.getTime(), 'precondition: the backlog is due after the rest').toBeGreaterThan(dueAt.at(-1)!);
      for (const store of [outbox, inbox] as const) {
        expect(ids(await store.claimDue({ token: token(), leaseMs: LONG, limit: 3 }))).toEqual(ids(late));
        expect(ids(await store.claimDue({ token: token(), leaseMs: LONG, limit: 5 }))).toEqual(ids(backlog.slice(0, 5)));
      }
    },
  },

  {
    name: 'outbox: one claim returns its rows oldest first, not in id order, in the inbox too',
    async run({ outbox, inbox }) {
      const run = newMessageId();
      const first = { ...message('order.within'), id: `zz-${run}` };
      await outbox.transaction((tx) => outbox.add(tx, [first]));
      await inbox.transaction((tx) => inbox.receive(tx, first));
      const [o, i] = [(await outbox.get(first.id))!.createdAt.getTime(), (await inbox.get(first))!.receivedAt.getTime()];
      await eventually(() => Date.now() > Math.max(o, i) + 1, 5_000, 'the clock to pass the first message');
      const second = { ...message('order.within'), id: `aa-${run}` }; // created after the first, its id sorting before it
      await outbox.transaction((tx) => outbox.add(tx, [second]));
      await inbox.transaction((tx) => inbox.receive(tx, second));
      for (const store of [outbox, inbox] as const) {
        expect(ids(await store.claimDue({ token: token(), leaseMs: LONG, limit: 10, types: ['order.within'] }))).toEqual([first.id, second.id]);
      }
    },
  },

  {
    name: 'outbox: a claimed row is due when its lease ends (claimed at add and by claimDue), in the inbox too, and is claimed again once it has ended',
    async run({ outbox, inbox }) {
      const dueAtLeaseEnd = (row: { availableAt: Date; leaseUntil: Date | null } | null | undefined, what: string) => {
        expect(row?.leaseUntil, `${what}: leased`).toBeInstanceOf(Date);
        expect(row!.availableAt.getTime(), `${what}: due when the lease ends`).toBe(row!.leaseUntil!.getTime());
      };
      const held = message();
      await outbox.transaction((tx) => outbox.add(tx, [held], { claim: { token: token(), leaseMs: LONG } }));
      dueAtLeaseEnd(await outbox.get(held.id), 'outbox row claimed at add');
      await inbox.transaction((tx) => inbox.receive(tx, held, { claim: { token: token(), leaseMs: LONG } }));
      dueAtLeaseEnd(await inbox.get(held), 'inbox row claimed at receive');
      for (const store of [outbox, inbox] as const) {
        const m = message(`lease.end.${newMessageId()}`);
        if (store === outbox) await outbox.transaction((tx) => outbox.add(tx, [m]));
        else await inbox.transaction((tx) => inbox.receive(tx, m));
        const what = store === outbox ? 'outbox' : 'inbox';
        expect(ids(await store.claimDue({ token: token(), leaseMs: SHORT, limit: 100, types: [m.type] })), `${what}: first claim`).toEqual([m.id]);
        dueAtLeaseEnd(store === outbox ? await outbox.get(m.id) : await inbox.get(m), `${what} row claimed by claimDue`);
        let again: { id: string; attempts: number }[] = [];
        await eventually(async () => (again = await store.claimDue({ token: token(), leaseMs: LONG, limit: 100, types: [m.type] })).length > 0, 10_000, `${what}: the row claimed again after its lease ended`);
        expect(ids(again)).toEqual([m.id]);
        expect(again[0]!.attempts).toBe(2);
      }
    },
  },

  {
    name: 'outbox: database time is UTC epoch ms, in the inbox too (due, lease, sent, received and processed times near Date.now())',
    async run({ outbox, inbox }) {
      const bound = 120_000;
      const near = (date: Date | null | undefined, what: string, offsetMs = 0) =>
        expect(Math.abs(date!.getTime() - offsetMs - Date.now()), `${what} ${date?.toISOString()} vs ${new Date().toISOString()}`).toBeLessThan(bound);
      const m = message();
      await outbox.transaction((tx) => outbox.add(tx, [m]));
      near((await outbox.get(m.id))?.availableAt, 'outbox availableAt');
      const [claimed] = await outbox.claimDue({ token: token(), leaseMs: LONG, limit: 1 });
      near(claimed?.leaseUntil, 'outbox leaseUntil', LONG);
      await outbox.markSent([{ id: m.id, token: claimed!.token }]);
      near((await outbox.get(m.id))?.sentAt, 'outbox sentAt');
      await inbox.transaction((tx) => inbox.receive(tx, m));
      const row = await inbox.get(m);
      near(row?.receivedAt, 'inbox receivedAt');
      near(row?.availableAt, 'inbox availableAt');
      const [handling] = await inbox.claimDue({ token: token(), leaseMs: LONG, limit: 1 });
      near(handling?.leaseUntil, 'inbox leaseUntil', LONG);
      await inbox.transaction((tx) => inbox.markProcessed(tx, { source: m.source, id: m.id, token: handling!.token }));
      near((await inbox.get(m))?.processedAt, 'inbox processedAt');
    },
  },
];
