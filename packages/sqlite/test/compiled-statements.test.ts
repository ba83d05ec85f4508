import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessage } from '@messagebox/core';
import { StatementCache, type AnyDb } from '@messagebox/kysely';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect, type KyselyPlugin } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { runHotStatementRound } from '@messagebox/testkit';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-compiled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A Kysely whose plugin counts the queries it compiles (a statement run already compiled passes by it). */
function open() {
  const compiled: string[] = [];
  const counting: KyselyPlugin = {
    transformQuery: (args) => (compiled.push(args.node.kind), args.node),
    transformResult: async (args) => args.result,
  };
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(join(dir, `c${++n}.db`)) }), plugins: [counting] });
  return { db, compiled };
}
const message = (payload: number) => createMessage({ type: 'a.b', payload, source: 'test' }, { now: new Date() });

describe('hot statements compiled once per shape', () => {
  it('a second add, claim, markSent, receive and markProcessed of the same shape compile nothing, and do their work', async () => {
    const { db, compiled } = open();
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    const round = (k: number) => runHotStatementRound(storage, k);
    await round(1);
    const before = compiled.length;
    const second = await round(2);
    expect(compiled.length).toBe(before);
    expect(await storage.outbox.get(second.sent)).toMatchObject({ status: 'sent', payload: 2 });
    expect(await storage.inbox.get({ source: 'test', id: second.processed })).toMatchObject({ status: 'processed', payload: 2 });
    await db.destroy();
  });

  it('a new shape (more rows) compiles once more; a fenced update with the wrong token still changes nothing', async () => {
    const { db, compiled } = open();
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message(1)]));
    let before = compiled.length;
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message(2), message(3)]));
    expect(compiled.length).toBe(before + 1);
    before = compiled.length;
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message(4), message(5)]));
    expect(compiled.length).toBe(before);
    const claimed = await storage.outbox.claimDue({ limit: 5, leaseMs: 30_000, token: 'right' });
    expect(claimed.map((m) => m.payload)).toEqual([1, 2, 3, 4, 5]);
    expect(await storage.outbox.markSent([{ id: claimed[0]!.id, token: 'wrong' }])).toEqual([]);
    expect(await storage.outbox.markSent([{ id: claimed[0]!.id, token: 'right' }])).toEqual([claimed[0]!.id]);
    await db.destroy();
  });

  it('rows of different shapes in one insert (claimed and not) keep each its own values, first and again', async () => {
    const { db } = open();
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    for (const round of [1, 2]) {
      const entries = [message(1), message(2), message(3)].map((m, i) => (i === 1 ? { message: m } : { message: m, claim: { token: `t${round}-${i}`, leaseMs: 30_000 } }));
      expect(await storage.inbox.transaction((tx) => storage.inbox.receiveMany!(tx, entries))).toEqual([true, true, true]);
      for (const [i, { message: m }] of entries.entries()) {
        const row = await storage.inbox.get({ source: 'test', id: m.id });
        expect(row).toMatchObject({ payload: i + 1, attempts: i === 1 ? 0 : 1 });
        expect(row!.leaseUntil === null).toBe(i === 1);
      }
      const due = await storage.inbox.claimDue({ limit: 10, leaseMs: 30_000, token: `c${round}` });
      expect(due.map((d) => d.id)).toEqual([entries[1]!.message.id]);
    }
    await db.destroy();
  });

  it('with an injected clock, statements holding its time are built per call, at the time of each call', async () => {
    const { db, compiled } = open();
    let now = Date.UTC(2030, 0, 1);
    const storage = createSqliteStorage({ db, clock: { now: () => now } });
    await storage.migrate();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message(1)]));
    now += 60_000;
    const before = compiled.length;
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message(2)]));
    expect(compiled.length).toBeGreaterThan(before);
    const rows = await storage.outbox.list({});
    expect(rows.map((r) => r.availableAt.getTime())).toEqual([now - 60_000, now]);
    await db.destroy();
  });
});

describe('StatementCache', () => {
  it('swaps in fresh values; a value the statement inlines makes it be built per call', async () => {
    const { db, compiled } = open();
    const cache = new StatementCache(db as unknown as AnyDb);
    const asParameter = (conn: AnyDb, input: { v: string }) => conn.selectNoFrom(sql<string>`${input.v}`.as('v'));
    const inlined = (conn: AnyDb, input: { v: string }) => conn.selectNoFrom(sql.lit(input.v).as('v'));
    expect((await cache.execute(db as unknown as AnyDb, 'p', { v: 'one' }, asParameter)).rows).toEqual([{ v: 'one' }]);
    const before = compiled.length;
    expect((await cache.execute(db as unknown as AnyDb, 'p', { v: 'two' }, asParameter)).rows).toEqual([{ v: 'two' }]);
    expect(compiled.length).toBe(before);
    expect((await cache.execute(db as unknown as AnyDb, 'l', { v: 'one' }, inlined)).rows).toEqual([{ v: 'one' }]);
    expect((await cache.execute(db as unknown as AnyDb, 'l', { v: 'two' }, inlined)).rows).toEqual([{ v: 'two' }]);
    expect(compiled.length).toBe(before + 3);
    await db.destroy();
  });

  it('builds an input of more than 2,000 values per call, with its values', async () => {
    const { db, compiled } = open();
    const cache = new StatementCache(db as unknown as AnyDb);
    const count = (conn: AnyDb, input: { v: string[] }) => conn.selectNoFrom(sql<number>`${input.v.length} + ${input.v.at(-1)!}`.as('n'));
    const big = (last: string) => ({ v: [...Array.from({ length: 2_000 }, String), last] });
    expect((await cache.execute(db as unknown as AnyDb, 'big', big('1'), count)).rows).toEqual([{ n: 2_002 }]);
    const before = compiled.length;
    expect((await cache.execute(db as unknown as AnyDb, 'big', big('2'), count)).rows).toEqual([{ n: 2_003 }]);
    expect(compiled.length).toBe(before + 1);
    expect(cache.size).toBe(0);
    await db.destroy();
  });

  it('keeps at most maxShapes shapes, dropping the least recently used', async () => {
    const { db, compiled } = open();
    const cache = new StatementCache(db as unknown as AnyDb, { maxShapes: 2 });
    const select = (conn: AnyDb, input: { v: string[] }) => conn.selectNoFrom(sql<number>`${input.v.length}`.as('n'));
    const run = (size: number) => cache.execute(db as unknown as AnyDb, 's', { v: Array.from({ length: size }, String) }, select);
    await run(1);
    await run(2);
    await run(1); // 1 is now the most recently used
    await run(3); // drops 2
    expect(cache.size).toBe(2);
    const before = compiled.length;
    await run(1);
    await run(3);
    expect(compiled.length).toBe(before);
    await run(2);
    expect(compiled.length).toBe(before + 1);
    await db.destroy();
  });
});
