import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessage, isMessageboxError } from '@messagebox/core';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheStatements, createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-statement-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const message = (payload: number) => createMessage({ type: 'a.b', payload, source: 'test' }, { now: new Date() });

/** A database whose every real `prepare` is counted, behind the cache. */
function open(options?: Parameters<typeof cacheStatements>[1]) {
  const database = new Database(join(dir, `s${++n}.db`));
  const prepared: string[] = [];
  const prepare = database.prepare.bind(database);
  (database as { prepare: unknown }).prepare = (source: string) => (prepared.push(source), prepare(source));
  const view = cacheStatements(database, options);
  return { database, view, prepared, db: new Kysely<{ t: { id: number } }>({ dialect: new SqliteDialect({ database: view }) }) };
}

describe('cacheStatements', () => {
  it('a store round of the same shape prepares nothing new the second time, and does its work', async () => {
    const { db, prepared } = open();
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    const round = async (k: number) => {
      const m = message(k);
      await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]));
      const [claimed] = await storage.outbox.claimDue({ limit: 1, leaseMs: 30_000, token: `t${k}` });
      expect(await storage.outbox.markSent([claimed!])).toEqual([m.id]);
      return m.id;
    };
    await round(1);
    const before = prepared.length;
    const id = await round(2);
    expect(prepared.length).toBe(before);
    expect(await storage.outbox.get(id)).toMatchObject({ status: 'sent', payload: 2 });
    await db.destroy();
  });

  it('a statement still iterating is not handed out twice; both read their rows', () => {
    const { view, prepared } = open();
    view.exec('create table t (id integer)');
    view.exec('insert into t values (1), (2), (3)');
    const text = 'select id from t order by id';
    const first = view.prepare(text) as unknown as Database.Statement<[], { id: number }>;
    const rows = first.iterate();
    expect(rows.next().value).toEqual({ id: 1 });
    const second = view.prepare(text) as unknown as Database.Statement<[], { id: number }>;
    expect(second).not.toBe(first);
    expect(second.all()).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect([...rows]).toEqual([{ id: 2 }, { id: 3 }]);
    expect(view.prepare(text)).toBe(first);
    expect(prepared.filter((s) => s === text)).toHaveLength(2);
    view.close();
  });

  it('keeps at most maxStatements texts, least recently used out first', async () => {
    const { db, prepared } = open({ maxStatements: 2 });
    const run = (k: number) => sql.raw(`select ${k} as k`).execute(db);
    await run(1);
    await run(2);
    await run(1); // hit: 1 is now the most recent
    await run(3); // evicts 2
    await run(1); // still cached
    await run(2); // prepared again
    expect(prepared).toEqual(['select 1 as k', 'select 2 as k', 'select 3 as k', 'select 2 as k']);
    await db.destroy();
  });

  it('leaves the original database alone, and passes other members through', async () => {
    const { database, view, prepared } = open();
    database.prepare('select 1').get();
    database.prepare('select 1').get();
    expect(prepared).toEqual(['select 1', 'select 1']);
    expect(view.prepare('select 2')).toBe(view.prepare('select 2'));
    expect(view.open).toBe(true);
    expect(view.inTransaction).toBe(false);
    view.exec('create table x (a)');
    expect(database.prepare('select count(*) as c from x').get()).toEqual({ c: 0 });
    view.close();
    expect(database.open).toBe(false);
  });

  it('rejects a bad maxStatements with a clear error', () => {
    const database = new Database(':memory:');
    for (const maxStatements of [0, 1.5, Number.NaN]) {
      let error: unknown;
      try {
        cacheStatements(database, { maxStatements });
      } catch (e) {
        error = e;
      }
      expect(isMessageboxError(error, 'invalid_options')).toBe(true);
      expect((error as Error).message).toMatch(/^\[messagebox\] cacheStatements: maxStatements/);
    }
    database.close();
  });
});
