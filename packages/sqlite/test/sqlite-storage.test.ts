import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessage, MessageboxError } from '@messagebox/core';
import { migrations } from '@messagebox/kysely';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect, Transaction, type CompiledQuery } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function open(log?: CompiledQuery[], options?: Database.Options) {
  const database = new Database(join(dir, `s${++n}.db`), options);
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }), log: log ? (e) => void log.push(e.query) : undefined });
  return { database, db };
}
const message = (type = 'a.b') => createMessage({ type, payload: { x: 1 }, source: 'test' }, { now: new Date() });
const tableNames = (database: Database.Database) =>
  (database.prepare(`select name from sqlite_master where type = 'table' order by name`).all() as { name: string }[]).map((r) => r.name);

describe('sqlite storage', () => {
  it('migrate() is idempotent and records what it applied', async () => {
    const { database, db } = open();
    const storage = createSqliteStorage({ db });
    expect(await storage.migrate()).toEqual(migrations.map((m) => m.name));
    expect(await storage.migrate()).toEqual([]);
    expect(tableNames(database)).toEqual(['messagebox_destinations', 'messagebox_inbox', 'messagebox_migrations', 'messagebox_outbox']);
    await db.destroy();
  });

  it('migrationSql() gives DDL that builds working tables with a custom prefix', async () => {
    const { database, db } = open();
    const storage = createSqliteStorage({ db, tablePrefix: 'billing_' });
    const statements = storage.migrationSql();
    expect(statements.some((s) => s.includes('CREATE TABLE IF NOT EXISTS "billing_outbox"'))).toBe(true);
    for (const statement of statements) database.exec(statement);
    expect(tableNames(database)).toEqual(['billing_destinations', 'billing_inbox', 'billing_outbox']);
    const m = message();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]));
    expect((await storage.outbox.get(m.id))?.status).toBe('pending');
    expect(await storage.migrate()).toEqual(migrations.map((m) => m.name));
    await db.destroy();
  });

  it('rejects a table prefix that is not a plain identifier', () => {
    const { db } = open();
    expect(() => createSqliteStorage({ db, tablePrefix: 'x"; drop table y; --' })).toThrow(MessageboxError);
  });

  it('writes with the caller’s own transaction, next to business rows', async () => {
    const { db } = open();
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    await db.schema.createTable('payment').addColumn('id', 'text').execute();
    const m = message();
    await expect(
      storage.outbox.transaction(async (tx) => {
        await tx.insertInto('payment' as never).values({ id: 'p1' } as never).execute();
        await storage.outbox.add(tx, [m]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.selectFrom('payment' as never).selectAll().execute()).toEqual([]);
    expect(await storage.outbox.get(m.id)).toBeNull();
    await db.destroy();
  });

  it('an injected clock replaces database time for due times and leases', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { db } = open();
    const storage = createSqliteStorage({ db, clock: { now: () => now } });
    await storage.migrate();
    const m = message();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]));
    expect((await storage.outbox.get(m.id))?.availableAt.getTime()).toBe(now);
    const [claimed] = await storage.outbox.claimDue({ token: 't1', leaseMs: 1_000, limit: 10 });
    expect(claimed?.leaseUntil?.getTime()).toBe(now + 1_000);
    await storage.outbox.scheduleRetry({ id: m.id, token: 't1' }, { delayMs: 30_000, error: 'e' });
    now += 29_999;
    expect(await storage.outbox.claimDue({ token: 't2', leaseMs: 1_000, limit: 10 })).toEqual([]);
    now += 1;
    expect(await storage.outbox.claimDue({ token: 't3', leaseMs: 1_000, limit: 10 })).toHaveLength(1);
    await db.destroy();
  });

  it('the claim statement reads the partial index of waiting rows', async () => {
    const log: CompiledQuery[] = [];
    const { database, db } = open(log);
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message()]));
    await storage.inbox.transaction((tx) => storage.inbox.receive(tx, message()));
    log.length = 0;
    await storage.outbox.claimDue({ token: 't', leaseMs: 1_000, limit: 10 });
    await storage.inbox.claimDue({ token: 't', leaseMs: 1_000, limit: 10 });
    const plans = log.map((q) =>
      (database.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail).join(' | '),
    );
    expect(plans[0]).toContain('messagebox_outbox_due');
    expect(plans[1]).toContain('messagebox_inbox_due');
    await db.destroy();
  });

  it('a keyed claim reads the due index and probes the key-order index per keyed candidate; blockedKeys reads the key-order index', async () => {
    const log: CompiledQuery[] = [];
    const { database, db } = open(log);
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    const keyed = (n: number) => createMessage({ type: 'a.b', payload: n, source: 'test', key: `k${n % 20}` }, { now: new Date() });
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, Array.from({ length: 400 }, (_, n) => keyed(n))));
    await storage.inbox.transaction((tx) => storage.inbox.receiveMany!(tx, Array.from({ length: 400 }, (_, n) => ({ message: keyed(n) }))));
    database.exec('ANALYZE');
    log.length = 0;
    expect(await storage.outbox.claimDue({ token: 't', leaseMs: 1_000, limit: 100 })).toHaveLength(20);
    expect(await storage.inbox.claimDue({ token: 't', leaseMs: 1_000, limit: 100, deadKey: 'skip' })).toHaveLength(20);
    await storage.outbox.transaction((tx) => storage.outbox.blockedKeys!(tx, ['k1', 'k2'], { deadKey: 'block' }));
    await storage.inbox.transaction((tx) => storage.inbox.blockedKeys!(tx, [{ source: 'test', key: 'k1' }], { deadKey: 'block' }));
    const plans = log
      .filter((q) => /^(update|select)/i.test(q.sql) && q.sql.includes('order_key'))
      .map((q) => (database.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail).join(' | '));
    expect(plans).toHaveLength(4);
    expect(plans[0]).toMatch(/USING INDEX messagebox_outbox_due.*CORRELATED SCALAR SUBQUERY.*SEARCH earlier USING INDEX messagebox_outbox_key_order \(order_key=\? AND rowid<\?\)/);
    expect(plans[1]).toMatch(/USING INDEX messagebox_inbox_due.*CORRELATED SCALAR SUBQUERY.*SEARCH earlier USING INDEX messagebox_inbox_key_order \(source=\? AND order_key=\? AND rowid<\?\)/);
    expect(plans[2]).toContain('messagebox_outbox_key_order');
    expect(plans[3]).toContain('messagebox_inbox_key_order');
    await db.destroy();
  });

  it('store transactions begin IMMEDIATE: the write lock is held before their first statement', async () => {
    const { database, db } = open();
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    const other = new Database(database.name, { timeout: 0 });
    const tryWrite = () => {
      try {
        other.exec('begin immediate');
        other.exec('rollback');
        return 'got the write lock';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(tryWrite()).toBe('got the write lock');
    const seen = [
      await storage.outbox.transaction(async (tx) => [tx instanceof Transaction && tx.isTransaction, tryWrite()]),
      await storage.inbox.transaction(async (tx) => [tx instanceof Transaction && tx.isTransaction, tryWrite()]),
    ];
    expect(seen).toEqual([
      [true, 'SQLITE_BUSY'],
      [true, 'SQLITE_BUSY'],
    ]);
    expect(tryWrite()).toBe('got the write lock');
    const m = message();
    await expect(storage.outbox.transaction(async (tx) => { await storage.outbox.add(tx, [m]); throw new Error('abort'); })).rejects.toThrow('abort');
    expect(await storage.outbox.get(m.id)).toBeNull();
    other.close();
    await db.destroy();
  });

  it('switches the file to WAL and raises a low busy timeout before its first operation', async () => {
    const { database, db } = open(undefined, { timeout: 0 });
    expect([database.pragma('journal_mode', { simple: true }), database.pragma('busy_timeout', { simple: true })]).toEqual(['delete', 0]);
    const storage = createSqliteStorage({ db });
    expect(await storage.outbox.transaction(async () => 'ran')).toBe('ran');
    expect([database.pragma('journal_mode', { simple: true }), database.pragma('busy_timeout', { simple: true })]).toEqual(['wal', 5_000]);
    await db.destroy();

    const kept = open(undefined, { timeout: 30_000 });
    await createSqliteStorage({ db: kept.db, wal: false, busyTimeoutMs: 10_000 }).migrate();
    expect([kept.database.pragma('journal_mode', { simple: true }), kept.database.pragma('busy_timeout', { simple: true })]).toEqual(['delete', 30_000]);
    await kept.db.destroy();

    const memory = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    expect(await createSqliteStorage({ db: memory }).migrate()).toEqual(migrations.map((m) => m.name));
    await memory.destroy();
  });

  it('a file that cannot switch to WAL fails with a clear MessageboxError, and the next operation tries again', async () => {
    const { database, db } = open(undefined, { timeout: 0 });
    database.exec('create table business (x)');
    const reader = new Database(database.name);
    reader.exec('begin');
    reader.prepare('select * from business').all();
    const storage = createSqliteStorage({ db, busyTimeoutMs: 50 });
    const error = await storage.migrate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageboxError);
    expect(error).toMatchObject({ code: 'store_failed', message: expect.stringMatching(/^\[messagebox\] SQLite did not switch the database to WAL .*wal: false/) });
    expect(tableNames(database)).toEqual(['business']);
    reader.exec('commit');
    reader.close();
    expect(await storage.migrate()).toEqual(migrations.map((m) => m.name));
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    await db.destroy();
  });

  it('a statement that rolled the whole transaction back (ON CONFLICT ROLLBACK) rejects with its own error, not "cannot rollback"', async () => {
    const { database, db } = open();
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    database.exec('create table payment (id text primary key on conflict rollback)');
    database.exec(`insert into payment values ('p1')`);
    const m = message();
    const failed = storage.outbox.transaction(async (tx) => {
      await storage.outbox.add(tx, [m]);
      await sql`insert into payment values ('p1')`.execute(tx);
    });
    await expect(failed).rejects.toThrow(/UNIQUE constraint failed/);
    expect(await storage.outbox.get(m.id)).toBeNull();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m])); // the connection is usable again
    expect(await storage.outbox.get(m.id)).toMatchObject({ status: 'pending' });
  });

  it('the inbox store declares one transaction at a time', async () => {
    const { db } = open();
    expect(createSqliteStorage({ db }).inbox.maxConcurrentTransactions).toBe(1);
    await db.destroy();
  });
});
