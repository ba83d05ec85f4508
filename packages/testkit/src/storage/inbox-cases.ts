import { createInbox, MessageboxError, type InboxClaim, type InboxStore, type Message } from '@messagebox/core';
import { expect } from 'vitest';
import { AFTER_SHORT, ids, LONG, message, SHORT, sleep, sorted, token } from './fixtures.js';
import type { StorageCase } from './types.js';

type Store = InboxStore<unknown>;
const receive = (store: Store, m: Parameters<Store['receive']>[1], options?: Parameters<Store['receive']>[2]) =>
  store.transaction((tx) => store.receive(tx, m, options));
const claim = (store: Store, options: { types?: string[]; limit?: number; leaseMs?: number; token?: string } = {}) =>
  store.claimDue({ token: options.token ?? token(), leaseMs: options.leaseMs ?? LONG, limit: options.limit ?? 100, ...(options.types ? { types: options.types } : {}) });
const processed = (store: Store, claim: InboxClaim) => store.transaction((tx) => store.markProcessed(tx, claim));
const c = (name: string, run: (inbox: Store) => Promise<void>): StorageCase => ({
  name: `inbox: ${name}`,
  run: (stores) => run(stores.inbox),
});

export const inboxCases: StorageCase[] = [
  c('receive stores a new message once: true, then false for a duplicate, content unchanged', async (store) => {
    const m = message('payment.created', { amount: 10 }, { traceparent: 't1' });
    expect(await receive(store, m)).toBe(true);
    const duplicate = { ...m, payload: { amount: 999 }, type: 'payment.changed' };
    expect(await receive(store, duplicate)).toBe(false);
    const row = await store.get(m);
    expect(row).toMatchObject({ id: m.id, source: m.source, type: 'payment.created', payload: { amount: 10 }, headers: { traceparent: 't1' }, status: 'received', attempts: 0, lastError: null, processedAt: null, leaseUntil: null });
    expect(row?.receivedAt).toBeInstanceOf(Date);
    expect(row!.createdAt.getTime()).toBe(m.createdAt.getTime());
    expect((await store.stats()).received).toBe(1);
  }),

  c('ids are case-sensitive: ids differing only in case are different messages', async (store) => {
    const base = message();
    const upper = { ...base, id: `Case-${base.id}` };
    const lower = { ...base, id: `case-${base.id}` };
    expect(await receive(store, upper)).toBe(true);
    expect(await receive(store, lower)).toBe(true);
    expect((await store.get(upper))?.id).toBe(upper.id);
    expect((await store.stats()).received).toBe(2);
  }),

  c('identity is (source, id): the same id from two sources is two messages, both stored and both claimed; duplicates of each still deduplicated', async (store) => {
    const base = message('payment.created', { from: 'a' });
    const fromA = { ...base, source: 'sender-a' };
    const fromB = { ...base, source: 'sender-b', payload: { from: 'b' } };
    expect(await Promise.all([receive(store, fromA), receive(store, fromB)])).toEqual([true, true]);
    const again = await Promise.all([receive(store, { ...fromA, payload: { from: 'a2' } }), receive(store, fromB), receive(store, fromA)]);
    expect(again).toEqual([false, false, false]);
    expect(await store.get(fromA)).toMatchObject({ source: 'sender-a', id: base.id, payload: { from: 'a' } });
    expect(await store.get(fromB)).toMatchObject({ source: 'sender-b', id: base.id, payload: { from: 'b' } });
    expect(await store.get({ source: 'sender-c', id: base.id })).toBeNull();
    expect((await store.stats()).received).toBe(2);
    expect((await store.list({ source: 'sender-b' })).map((r) => [r.source, r.id])).toEqual([['sender-b', base.id]]);
    const claimed = await claim(store);
    expect(claimed.map((r) => `${r.source}/${r.id}`).sort()).toEqual([`sender-a/${base.id}`, `sender-b/${base.id}`]);
    for (const row of claimed) expect(await processed(store, row)).toBe(true);
    expect(await store.stats()).toMatchObject({ received: 0, processed: 2 });
  }),

  c('fencing is per (source, id): completing (A, x) never touches (B, x) of the same batch', async (store) => {
    const base = message();
    const [a, b] = [{ ...base, source: 'sender-a' }, { ...base, source: 'sender-b' }];
    await receive(store, a);
    await receive(store, b);
    const t = token();
    expect(await claim(store, { token: t })).toHaveLength(2);
    const claimOf = (m: typeof a) => ({ source: m.source, id: m.id, token: t });
    expect(await processed(store, claimOf(a))).toBe(true);
    expect(await store.get(a)).toMatchObject({ status: 'processed' });
    expect(await store.get(b)).toMatchObject({ status: 'received', attempts: 1, lastError: null });
    expect((await store.get(b))?.leaseUntil).not.toBeNull();
    expect(await store.scheduleRetry(claimOf(a), { delayMs: 1, error: 'late' })).toBe(false);
    expect(await store.markDead(claimOf(a), { error: 'late' })).toBe(false);
    expect(await store.release([claimOf(a)])).toBe(0);
    expect(await store.get(b)).toMatchObject({ status: 'received', attempts: 1, lastError: null });
    expect(await store.scheduleRetry(claimOf(b), { delayMs: LONG, error: 'b failed' })).toBe(true);
    expect(await store.get(a)).toMatchObject({ status: 'processed', lastError: null });
    expect(await store.get(b)).toMatchObject({ status: 'received', lastError: 'b failed', leaseUntil: null });
  }),

  c('claimDue takes only the due row of an id that two sources used', async (store) => {
    const base = message();
    const [free, leased] = [{ ...base, source: 'sender-a' }, { ...base, source: 'sender-b' }];
    const owner = token();
    await receive(store, leased, { claim: { token: owner, leaseMs: LONG } });
    await receive(store, free);
    const claimed = await claim(store);
    expect(claimed.map((r) => r.source)).toEqual(['sender-a']);
    expect(await store.get(leased)).toMatchObject({ attempts: 1 });
    expect(await processed(store, { source: leased.source, id: leased.id, token: owner })).toBe(true);
    expect(await store.get(free)).toMatchObject({ status: 'received', attempts: 1 });
  }),

  c('purge and replay with a limit act on (source, id), not on every source of an id', async (store) => {
    const base = message();
    const [a, b] = [{ ...base, source: 'sender-a' }, { ...base, source: 'sender-b' }];
    await receive(store, a);
    await receive(store, b);
    const [row] = await claim(store, { types: [a.type], limit: 1 });
    const other = row!.source === a.source ? b : a;
    await store.markDead(row!, { error: 'first one died' });
    const [next] = await claim(store);
    await store.markDead(next!, { error: 'second one died' });
    expect(await store.replay({ errorContains: 'first', limit: 10 })).toBe(1);
    expect(await store.get(row!)).toMatchObject({ status: 'received' });
    expect(await store.get(other)).toMatchObject({ status: 'dead' });
    const [again] = await claim(store);
    expect(await processed(store, again!)).toBe(true);
    await sleep(30);
    expect(await store.purge({ olderThanMs: 5, limit: 10 })).toBe(1);
    expect(await store.get(row!)).toBeNull();
    expect(await store.get(other)).toMatchObject({ status: 'dead' });
  }),

  c('an inbox claim without its source is refused with invalid_options, touching nothing', async (store) => {
    const m = message();
    await receive(store, m);
    const [row] = await claim(store);
    const noSource = { id: m.id, token: row!.token } as unknown as InboxClaim;
    await expect(store.scheduleRetry(noSource, { delayMs: 1, error: 'x' })).rejects.toMatchObject({ code: 'invalid_options' });
    await expect(store.release([noSource])).rejects.toMatchObject({ code: 'invalid_options' });
    expect(await store.get(m)).toMatchObject({ status: 'received', attempts: 1, lastError: null });
  }),

  c('receive inside a rolled-back transaction stores nothing', async (store) => {
    const m = message();
    await expect(store.transaction(async (tx) => { await store.receive(tx, m); throw new Error('rollback'); })).rejects.toThrow('rollback');
    expect(await store.get(m)).toBeNull();
    expect(await receive(store, m)).toBe(true);
  }),

  c('concurrent receives of the same id: exactly one gets true', async (store) => {
    const m = message();
    const results = await Promise.all(Array.from({ length: 8 }, () => receive(store, m)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.stats()).received).toBe(1);
  }),

  c('claimDue claims received rows with a lease and increments attempts', async (store) => {
    const messages = [message(), message()];
    for (const m of messages) await receive(store, m);
    const t = token();
    const before = Date.now();
    const claimed = await claim(store, { token: t });
    expect(sorted(ids(claimed))).toEqual(sorted(ids(messages)));
    for (const row of claimed) {
      expect(row).toMatchObject({ token: t, attempts: 1, status: 'received' });
      expect(row.leaseUntil!.getTime()).toBeGreaterThan(before + LONG / 2);
    }
    expect(await claim(store)).toEqual([]);
  }),

  c('claimDue respects limit and returns the oldest due first', async (store) => {
    const messages = [message(), message(), message()];
    for (const m of messages) {
      await receive(store, m);
      await sleep(5);
    }
    expect(ids(await claim(store, { limit: 2 }))).toEqual([messages[0]!.id, messages[1]!.id]);
    expect(await claim(store, { limit: 0 })).toEqual([]);
  }),

  c('claimDue with types claims only those types; an empty list claims nothing', async (store) => {
    const [a, b] = [message('kind.a'), message('kind.b')];
    await receive(store, a!);
    await receive(store, b!);
    expect(await claim(store, { types: [] })).toEqual([]);
    expect(ids(await claim(store, { types: ['kind.b', 'kind.z'] }))).toEqual([b!.id]);
    expect(ids(await claim(store))).toEqual([a!.id]);
  }),

  c('a live lease blocks a second claim; an expired one lets another take over', async (store) => {
    const m = message();
    await receive(store, m);
    await claim(store, { leaseMs: SHORT });
    await sleep(AFTER_SHORT);
    const t = token();
    const [taken] = await claim(store, { token: t, leaseMs: LONG });
    expect(taken).toMatchObject({ source: m.source, id: m.id, token: t, attempts: 2 });
    expect(await claim(store)).toEqual([]);
  }),

  c('markProcessed inside a committed transaction marks the row processed', async (store) => {
    const m = message();
    await receive(store, m);
    const [row] = await claim(store);
    expect(await processed(store, { source: m.source, id: m.id, token: row!.token })).toBe(true);
    const stored = await store.get(m);
    expect(stored).toMatchObject({ status: 'processed', leaseUntil: null });
    expect(stored?.processedAt).toBeInstanceOf(Date);
    expect(await claim(store)).toEqual([]);
  }),

  c('markProcessed inside a rolled-back transaction leaves the row received', async (store) => {
    const m = message();
    await receive(store, m);
    const [row] = await claim(store);
    await expect(
      store.transaction(async (tx) => {
        expect(await store.markProcessed(tx, { source: m.source, id: m.id, token: row!.token })).toBe(true);
        throw new Error('handler write failed');
      }),
    ).rejects.toThrow('handler write failed');
    expect(await store.get(m)).toMatchObject({ status: 'received', processedAt: null });
  }),

  c('fencing: a lost claim cannot mark processed, retry, kill or release', async (store) => {
    const m = message();
    await receive(store, m);
    const [late] = await claim(store, { leaseMs: SHORT });
    await sleep(AFTER_SHORT);
    const [owner] = await claim(store, { leaseMs: LONG });
    const lost = { source: m.source, id: m.id, token: late!.token };
    expect(await processed(store, lost), 'a lost claim marked processed').toBe(false);
    expect(await store.scheduleRetry(lost, { delayMs: LONG, error: 'late' })).toBe(false);
    expect(await store.markDead(lost, { error: 'late' })).toBe(false);
    expect(await store.release([lost])).toBe(0);
    const row = await store.get(m);
    expect(row).toMatchObject({ status: 'received', attempts: 2, lastError: null });
    expect(row?.leaseUntil).not.toBeNull();
    expect(await processed(store, { source: m.source, id: m.id, token: owner!.token })).toBe(true);
  }),

  c('fencing: a transaction whose processed mark finds the claim lost commits nothing (the mark says false, at once, and the caller rolls back)', async (store) => {
    const [m, written] = [message(), message()];
    await receive(store, m);
    const [late] = await claim(store, { leaseMs: SHORT });
    await sleep(AFTER_SHORT);
    const [owner] = await claim(store, { leaseMs: LONG });
    const lost = { source: m.source, id: m.id, token: late!.token };
    const run = store.transaction(async (tx) => {
      await store.receive(tx, written); // what a handler wrote
      const marked = await store.markProcessed(tx, lost);
      expect(marked, 'markProcessed of a lost claim, inside the transaction').toBe(false);
      if (!marked) throw new MessageboxError('lease_lost', 'lost (the mark said false)');
    });
    await expect(run).rejects.toMatchObject({ code: 'lease_lost', message: expect.stringContaining('the mark said false') });
    expect(await store.get(written), 'the write of the failed transaction is not committed').toBeNull();
    expect(await store.get(m)).toMatchObject({ status: 'received', attempts: 2 });
    expect(await processed(store, { source: m.source, id: m.id, token: owner!.token })).toBe(true);
  }),

  c('scheduleRetry: not due before its delay, due after it, lastError kept', async (store) => {
    const [later, soon] = [message(), message()];
    await receive(store, later!);
    await receive(store, soon!);
    for (const row of await claim(store)) {
      const delayMs = row.id === later!.id ? LONG : 100;
      expect(await store.scheduleRetry({ source: row.source, id: row.id, token: row.token }, { delayMs, error: `handler threw ${row.id === later!.id ? 'A' : 'B'}` })).toBe(true);
    }
    expect(await store.get(later!)).toMatchObject({ status: 'received', lastError: 'handler threw A', leaseUntil: null });
    await sleep(300);
    const again = await claim(store);
    expect(ids(again)).toEqual([soon!.id]);
    expect(again[0]).toMatchObject({ attempts: 2, lastError: 'handler threw B' });
  }),

  c('markDead, then replay puts it back to received with attempts 0', async (store) => {
    const [a, b] = [message('kind.a'), message('kind.b')];
    await receive(store, a!);
    await receive(store, b!);
    for (const row of await claim(store)) expect(await store.markDead({ source: row.source, id: row.id, token: row.token }, { error: `gave up on ${row.type}` })).toBe(true);
    expect(await store.get(a!)).toMatchObject({ status: 'dead', lastError: 'gave up on kind.a' });
    expect(await claim(store)).toEqual([]);
    expect(await store.replay({ errorContains: 'kind.b' })).toBe(1);
    expect(await store.get(b!)).toMatchObject({ status: 'received', attempts: 0, lastError: 'gave up on kind.b' });
    expect((await store.get(a!))?.status).toBe('dead');
    expect(ids(await claim(store))).toEqual([b!.id]);
  }),

  c('release gives rows back: attempts decremented, claimable at once', async (store) => {
    const m = message();
    await receive(store, m);
    const [row] = await claim(store);
    expect(await store.release([{ source: m.source, id: m.id, token: row!.token }])).toBe(1);
    expect(await store.get(m)).toMatchObject({ status: 'received', attempts: 0, leaseUntil: null });
    expect(await claim(store)).toHaveLength(1);
  }),

  c('release of 1,200 claims, each with its own token (an after-commit overflow given back), gives every row back', async (store) => {
    const messages = Array.from({ length: 1_200 }, () => message());
    const claims = messages.map((m) => ({ source: m.source, id: m.id, token: token() }));
    await store.transaction(async (tx) => {
      for (const [i, m] of messages.entries()) await store.receive(tx, m, { claim: { token: claims[i]!.token, leaseMs: LONG } });
    });
    expect(await store.release(claims)).toBe(1_200);
    expect(await store.get(messages[1_199]!)).toMatchObject({ status: 'received', attempts: 0, leaseUntil: null });
    expect((await store.claimDue({ limit: 2_000, leaseMs: LONG, token: token() })).length).toBe(1_200);
  }),

  c('an insert-time claim on receive writes the row already owned', async (store) => {
    const m = message();
    const t = token();
    expect(await receive(store, m, { claim: { token: t, leaseMs: LONG } })).toBe(true);
    expect(await store.get(m)).toMatchObject({ status: 'received', attempts: 1 });
    expect(await claim(store)).toEqual([]);
    expect(await processed(store, { source: m.source, id: m.id, token: t })).toBe(true);
  }),

  c('stats counts rows by status and gives the oldest waiting', async (store) => {
    expect(await store.stats()).toEqual({ received: 0, processed: 0, dead: 0, oldestPendingAt: null });
    const messages = [message(), message(), message()];
    const before = Date.now();
    for (const m of messages) await receive(store, m);
    const [p, d] = await claim(store, { limit: 2 });
    await processed(store, { source: p!.source, id: p!.id, token: p!.token });
    await store.markDead({ source: d!.source, id: d!.id, token: d!.token }, { error: 'x' });
    const stats = await store.stats();
    expect(stats).toMatchObject({ received: 1, processed: 1, dead: 1 });
    expect(Math.abs(stats.oldestPendingAt!.getTime() - before)).toBeLessThan(5_000);
  }),

  c('list filters by status, type, ids, errorContains and limit; get returns null for unknown ids', async (store) => {
    const messages = [message('t.one'), message('t.two'), message('t.one')];
    for (const m of messages) {
      await receive(store, m);
      await sleep(3);
    }
    const [m0, m1, m2] = messages as [typeof messages[0], typeof messages[0], typeof messages[0]];
    const [row] = await claim(store, { types: ['t.two'] });
    await store.markDead({ source: row!.source, id: row!.id, token: row!.token }, { error: 'Handler Failed' });
    expect(ids(await store.list())).toEqual([m0.id, m1.id, m2.id]);
    expect(ids(await store.list({ status: 'received' }))).toEqual([m0.id, m2.id]);
    expect(ids(await store.list({ type: 't.two' }))).toEqual([m1.id]);
    expect(ids(await store.list({ ids: [m2.id] }))).toEqual([m2.id]);
    expect(ids(await store.list({ errorContains: 'Handler' }))).toEqual([m1.id]);
    expect(ids(await store.list({ errorContains: 'handler' }))).toEqual([]);
    expect(ids(await store.list({ limit: 1 }))).toEqual([m0.id]);
    expect(await store.list({ before: new Date(Date.now() - LONG) })).toEqual([]);
    expect(await store.get({ source: 'conformance', id: 'no-such-id' })).toBeNull();
    expect(await store.get({ source: 'elsewhere', id: m0.id })).toBeNull();
  }),

  c('purge deletes old processed rows in bounded batches and nothing else', async (store) => {
    const done = Array.from({ length: 3 }, () => message());
    const waiting = message();
    for (const m of [...done, waiting]) await receive(store, m);
    for (const row of await claim(store, { limit: 3 })) await processed(store, { source: row.source, id: row.id, token: row.token });
    expect(await store.purge({ olderThanMs: LONG, limit: 10 })).toBe(0);
    await sleep(30);
    expect(await store.purge({ olderThanMs: 5, limit: 2 })).toBe(2);
    expect(await store.purge({ olderThanMs: 5, limit: 2 })).toBe(1);
    expect(await store.purge({ olderThanMs: 5, limit: 2 })).toBe(0);
    expect(await store.stats()).toMatchObject({ received: 1, processed: 0 });
  }),

  c('concurrent claimers never receive the same row', async (store) => {
    const messages = Array.from({ length: 60 }, () => message());
    await Promise.all(messages.map((m) => receive(store, m)));
    const seen: string[] = [];
    const claimer = async () => {
      for (;;) {
        const rows = await claim(store, { limit: 5 });
        if (rows.length === 0) return;
        seen.push(...ids(rows));
      }
    };
    await Promise.all(Array.from({ length: 5 }, claimer));
    expect(sorted(seen)).toEqual(sorted(ids(messages)));
  }),

  {
    name: 'inbox: receiveMany answers one boolean per entry: duplicates of stored rows and of earlier entries are false; claims as given; rollback stores nothing',
    run: async ({ inbox: store }, context) => {
      if (!store.receiveMany) return context.skip('this store has no receiveMany (the inbox falls back to receive)');
      const [stored, claimed, free] = [message(), message(), message()];
      const otherSource = { ...free!, source: 'another-sender' };
      await receive(store, stored!);
      const t = token();
      const results = await store.transaction((tx) =>
        store.receiveMany!(tx, [{ message: stored! }, { message: claimed!, claim: { token: t, leaseMs: LONG } }, { message: free! }, { message: claimed! }, { message: otherSource }, { message: free! }]),
      );
      expect(results).toEqual([false, true, true, false, true, false]);
      expect(await store.get(claimed!)).toMatchObject({ status: 'received', attempts: 1 });
      expect(await store.get(free!)).toMatchObject({ status: 'received', attempts: 0, leaseUntil: null });
      const due = await claim(store);
      expect(due.map((r) => `${r.source}/${r.id}`).sort()).toEqual([stored!, free!, otherSource].map((m) => `${m.source}/${m.id}`).sort());
      expect(await processed(store, { source: claimed!.source, id: claimed!.id, token: t })).toBe(true);
      for (const row of due) expect(await processed(store, row)).toBe(true);
      const rolledBack = message();
      await expect(store.transaction(async (tx) => { await store.receiveMany!(tx, [{ message: rolledBack }]); throw new Error('rollback'); })).rejects.toThrow('rollback');
      expect(await store.get(rolledBack)).toBeNull();
      expect(await store.transaction((tx) => store.receiveMany!(tx, []))).toEqual([]);
    },
  },

  {
    name: 'inbox: receiveManyCommitted answers like receiveMany and its rows are committed when it resolves; concurrent calls insert each key exactly once',
    run: async ({ inbox: store }, context) => {
      if (!store.receiveManyCommitted) return context.skip('this store has no receiveManyCommitted (the inbox opens a transaction for receiveMany)');
      const [stored, claimed, free] = [message(), message(), message()];
      await receive(store, stored!);
      const t = token();
      const results = await store.receiveManyCommitted([{ message: stored! }, { message: claimed!, claim: { token: t, leaseMs: LONG } }, { message: free! }, { message: claimed! }]);
      expect(results).toEqual([false, true, true, false]);
      expect(await store.get(claimed!)).toMatchObject({ status: 'received', attempts: 1 });
      expect(await store.get(free!)).toMatchObject({ status: 'received', attempts: 0, leaseUntil: null });
      expect(await processed(store, { source: claimed!.source, id: claimed!.id, token: t })).toBe(true);
      expect(await store.receiveManyCommitted([])).toEqual([]);
      const all = Array.from({ length: 30 }, () => message());
      const batches = [0, 10, 20].map((start) => Array.from({ length: 15 }, (_, i) => all[(start + i) % all.length]!));
      const outcomes = await Promise.allSettled(batches.map((batch) => store.receiveManyCommitted!(batch.map((m) => ({ message: m })))));
      const inserted = new Map<string, number>();
      for (const [b, outcome] of outcomes.entries()) {
        const answers = outcome.status === 'fulfilled' ? outcome.value : await store.receiveManyCommitted(batches[b]!.map((m) => ({ message: m })));
        batches[b]!.forEach((m, i) => answers[i] && inserted.set(m.id, (inserted.get(m.id) ?? 0) + 1));
      }
      expect([...inserted.values()].every((n) => n === 1)).toBe(true);
      expect(inserted.size).toBe(30);
    },
  },

  {
    name: 'inbox: concurrent receiveMany batches with overlapping keys insert each key exactly once (a batch refused by a deadlock stores nothing)',
    run: async ({ inbox: store }, context) => {
      if (!store.receiveMany) return context.skip('this store has no receiveMany (the inbox falls back to receive)');
      const all = Array.from({ length: 40 }, () => message());
      const batches = [0, 10, 20, 30].map((start) => Array.from({ length: 20 }, (_, i) => all[(start + i) % all.length]!));
      const outcomes = await Promise.allSettled(batches.map((batch) => store.transaction((tx) => store.receiveMany!(tx, batch.map((m) => ({ message: m }))))));
      expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
      const inserted = new Map<string, number>();
      batches.forEach((batch, b) => {
        const outcome = outcomes[b]!;
        if (outcome.status === 'fulfilled') batch.forEach((m, i) => outcome.value[i] && inserted.set(m.id, (inserted.get(m.id) ?? 0) + 1));
      });
      expect([...inserted.values()].every((n) => n === 1)).toBe(true);
      expect((await store.stats()).received).toBe(inserted.size);
      const refused = batches.filter((_, b) => outcomes[b]!.status === 'rejected');
      for (const batch of refused) {
        const again = await store.transaction((tx) => store.receiveMany!(tx, batch.map((m) => ({ message: m }))));
        batch.forEach((m, i) => again[i] && inserted.set(m.id, (inserted.get(m.id) ?? 0) + 1));
      }
      expect([...inserted.values()].every((n) => n === 1)).toBe(true);
      expect(inserted.size).toBe(40);
      expect((await store.stats()).received).toBe(40);
    },
  },

  {
    name: 'inbox: markProcessedMany marks every claimed row in one call and returns each key once; rollback leaves them received',
    run: async ({ inbox: store }, context) => {
      if (!store.markProcessedMany) return context.skip('this store has no markProcessedMany (the inbox falls back to markProcessed)');
      const messages = Array.from({ length: 5 }, () => message());
      for (const m of messages) await receive(store, m);
      const rows = await claim(store);
      expect(rows).toHaveLength(5);
      await expect(
        store.transaction(async (tx) => {
          expect(await store.markProcessedMany!(tx, rows.slice(0, 2))).toHaveLength(2);
          throw new Error('handler write failed');
        }),
      ).rejects.toThrow('handler write failed');
      expect((await store.stats()).received).toBe(5);
      const marked = await store.transaction((tx) => store.markProcessedMany!(tx, [...rows, rows[0]!]));
      expect(sorted(marked.map((k) => `${k.source}/${k.id}`))).toEqual(sorted(messages.map((m) => `${m.source}/${m.id}`)));
      for (const m of messages) {
        const row = await store.get(m);
        expect(row).toMatchObject({ status: 'processed', leaseUntil: null });
        expect(row?.processedAt).toBeInstanceOf(Date);
      }
      expect(await claim(store)).toEqual([]);
      expect(await store.transaction((tx) => store.markProcessedMany!(tx, []))).toEqual([]);
    },
  },

  {
    name: 'inbox: markProcessedMany is fenced per (source, id, token): a wrong token or a lost claim is not marked, the rest are',
    run: async ({ inbox: store }, context) => {
      if (!store.markProcessedMany) return context.skip('this store has no markProcessedMany (the inbox falls back to markProcessed)');
      const [kept, wrong, expired] = [message(), message(), message()];
      for (const m of [kept!, wrong!, expired!]) await receive(store, m);
      const t = token();
      expect(await claim(store, { token: t, leaseMs: SHORT })).toHaveLength(3);
      await sleep(AFTER_SHORT);
      const [owner] = await claim(store, { types: [expired!.type], limit: 1, leaseMs: LONG });
      const lostKey = { source: owner!.source, id: owner!.id };
      const others = [kept!, wrong!, expired!].filter((m) => m.id !== lostKey.id);
      const claims: InboxClaim[] = [
        { source: others[0]!.source, id: others[0]!.id, token: t },
        { source: others[1]!.source, id: others[1]!.id, token: 'not-the-token' },
        { ...lostKey, token: t },
      ];
      const marked = await store.transaction((tx) => store.markProcessedMany!(tx, claims));
      expect(marked.map((k) => `${k.source}/${k.id}`)).toEqual([`${others[0]!.source}/${others[0]!.id}`]);
      expect(await store.get(others[0]!)).toMatchObject({ status: 'processed' });
      expect(await store.get(others[1]!)).toMatchObject({ status: 'received', processedAt: null });
      expect(await store.get(lostKey)).toMatchObject({ status: 'received', processedAt: null });
      expect(await store.transaction((tx) => store.markProcessedMany!(tx, [owner!]))).toEqual([lostKey]);
      expect(await store.transaction((tx) => store.markProcessedMany!(tx, [owner!]))).toEqual([]);
    },
  },

  {
    name: 'inbox: markProcessedMany with the same id from two sources marks only the sources it names',
    run: async ({ inbox: store }, context) => {
      if (!store.markProcessedMany) return context.skip('this store has no markProcessedMany (the inbox falls back to markProcessed)');
      const base = message();
      const [a, b, c2] = [{ ...base, source: 'sender-a' }, { ...base, source: 'sender-b' }, { ...base, source: 'sender-c' }];
      for (const m of [a, b, c2]) await receive(store, m);
      const t = token();
      expect(await claim(store, { token: t })).toHaveLength(3);
      const marked = await store.transaction((tx) => store.markProcessedMany!(tx, [a, c2].map((m) => ({ source: m.source, id: m.id, token: t }))));
      expect(sorted(marked.map((k) => k.source))).toEqual(['sender-a', 'sender-c']);
      expect(marked.every((k) => k.id === base.id)).toBe(true);
      expect(await store.get(a)).toMatchObject({ status: 'processed' });
      expect(await store.get(b)).toMatchObject({ status: 'received', attempts: 1, processedAt: null });
      expect(await store.get(c2)).toMatchObject({ status: 'processed' });
    },
  },

  c('inbox.onBatch: one handler call per batch; a poison message is isolated (the others processed once, it is retried, then dead)', async (store) => {
    const calls: string[][] = [];
    const handled = new Map<string, number>();
    const inbox = createInbox({ store, logger: { debug() {}, info() {}, warn() {}, error() {} }, retention: false, pollIntervalMs: 3_600_000, retry: { initialDelayMs: 1, maxAttempts: 2, jitter: 0 } });
    inbox.events.on('handled', (e) => void handled.set(e.message.id, (handled.get(e.message.id) ?? 0) + 1));
    const messages = Array.from({ length: 6 }, () => message('test.batch'));
    const poison = messages[3]!;
    inbox.onBatch('test.batch', (batch) => {
      calls.push(batch.map((m) => m.id));
      if (batch.some((m) => m.id === poison.id)) throw new Error('poison message');
    }, { maxMessages: 10 });
    await store.transaction(async (tx) => {
      for (const m of messages) await store.receive(tx, m);
    });
    expect(await inbox.processDue()).toBe(6);
    expect(calls[0]!.length).toBe(6);
    expect(calls.slice(1)).toEqual(calls[0]!.map((id) => [id]));
    expect(await store.stats()).toMatchObject({ received: 1, processed: 5, dead: 0 });
    expect(await store.get(poison)).toMatchObject({ status: 'received', attempts: 1, lastError: 'poison message' });
    await sleep(AFTER_SHORT);
    await inbox.processDue();
    expect(await store.get(poison)).toMatchObject({ status: 'dead', attempts: 2 });
    expect(sorted([...handled.keys()])).toEqual(sorted(ids(messages.filter((m) => m !== poison))));
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    expect(await store.stats()).toMatchObject({ received: 0, processed: 5, dead: 1 });
  }),

  c('inbox.receive with group commit: concurrent receives of distinct and duplicate messages are answered right, stored once, handled once', async (store) => {
    const handled: string[] = [];
    const inbox = createInbox({ store, logger: { debug() {}, info() {}, warn() {}, error() {} }, retention: false, pollIntervalMs: 3_600_000 }).on('test.event', (m) => void handled.push(`${m.source}/${m.id}`));
    const distinct = Array.from({ length: 40 }, () => message());
    const sameIds = distinct.slice(0, 4).map((m) => ({ ...m, source: 'second-sender' }));
    const resent = distinct.slice(10, 30);
    const inputs: Message[] = [];
    for (let i = 0; i < distinct.length; i++) {
      inputs.push(distinct[i]!);
      if (i % 2 === 1) inputs.push(resent[(i - 1) / 2 % resent.length]!);
      if (i < sameIds.length) inputs.push(sameIds[i]!);
    }
    const answers = await Promise.all(inputs.map((m) => inbox.receive(m)));
    const created = inputs.filter((_, i) => answers[i]!.status === 'created').map((m) => `${m.source}/${m.id}`);
    const expected = [...distinct, ...sameIds].map((m) => `${m.source}/${m.id}`);
    expect(sorted(created)).toEqual(sorted(expected));
    expect(answers.filter((a) => a.status === 'duplicate')).toHaveLength(inputs.length - expected.length);
    await inbox.idle();
    expect(sorted(handled)).toEqual(sorted(expected));
    expect(await store.stats()).toMatchObject({ received: 0, processed: expected.length, dead: 0 });
  }),

  c('inbox.receive with group commit: a batch whose transaction fails loses nothing; it is received again one by one and only the bad message fails', async (store) => {
    const poison = message();
    const refuse = () => new Error('the store refused this message');
    const failing: Store = {
      ...store,
      receive: async (tx, m, options) => {
        if (m.id === poison.id) throw refuse();
        return store.receive(tx, m, options);
      },
      receiveMany: async (tx, entries) => {
        const results = store.receiveMany ? await store.receiveMany(tx, entries) : await Promise.all(entries.map((e) => store.receive(tx, e.message, e.claim ? { claim: e.claim } : {})));
        if (entries.some((e) => e.message.id === poison.id)) throw refuse();
        return results;
      },
      // The committed form refuses the same way; a refused batch stores nothing (its transaction rolls back).
      ...(store.receiveManyCommitted ? { receiveManyCommitted: (entries) => failing.transaction((tx) => failing.receiveMany!(tx, entries)) } : {}),
    };
    const inbox = createInbox({ store: failing, unknownTypes: 'accept', logger: { debug() {}, info() {}, warn() {}, error() {} }, retention: false });
    const good = Array.from({ length: 12 }, () => message());
    const inputs = [...good.slice(0, 6), poison, ...good.slice(6), good[0]!];
    const outcomes = await Promise.allSettled(inputs.map((m) => inbox.receive(m)));
    const answer = (o: PromiseSettledResult<{ status: string }>) => (o.status === 'fulfilled' ? o.value.status : 'rejected');
    expect(outcomes.map(answer)).toEqual([...good.slice(0, 6).map(() => 'created'), 'rejected', ...good.slice(6).map(() => 'created'), 'duplicate']);
    expect(await store.get(poison)).toBeNull();
    expect(sorted(ids(await store.list({ limit: 100 })))).toEqual(sorted(ids(good)));
  }),

  c('inbox.receive with group commit: two inboxes (two receiver processes) receiving the same messages at once create each exactly once', async (store) => {
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const inboxes = [0, 1].map(() => createInbox({ store, unknownTypes: 'accept', logger: silent, retention: false }));
    const messages = Array.from({ length: 60 }, () => message());
    const answers = await Promise.all(inboxes.flatMap((inbox, n) => (n === 0 ? messages : [...messages].reverse()).map(async (m) => ({ m, status: (await inbox.receive(m)).status }))));
    const created = answers.filter((a) => a.status === 'created').map((a) => a.m.id);
    expect(sorted(created)).toEqual(sorted(ids(messages)));
    expect(answers.filter((a) => a.status === 'duplicate')).toHaveLength(messages.length);
    expect((await store.stats()).received).toBe(messages.length);
  }),
];
