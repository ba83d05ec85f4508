import { migrations } from '@messagebox/kysely';
import { createMessage } from '@messagebox/core';
import { expectInjectedClock, requireDatabase, sqlLiteral } from '@messagebox/testkit';
import { sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const message = (type = 'a.b') => createMessage({ type, payload: { x: 1 }, source: 'test' }, { now: new Date() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(reachable)('postgres storage', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('migrate() is idempotent, also when several run at once, and honours schema and prefix', async () => {
    const db = database.connect();
    const storages = Array.from({ length: 3 }, () => createPostgresStorage({ db, pool: false, schema: 'billing', tablePrefix: 'mb_' }));
    const applied = await Promise.all(storages.map((s) => s.migrate()));
    expect(applied.flat()).toEqual(migrations.map((m) => m.name));
    expect(await storages[0]!.migrate()).toEqual([]);
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'billing' order by table_name`.execute(db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(['mb_destinations', 'mb_inbox', 'mb_migrations', 'mb_outbox']);
    const m = message();
    await storages[1]!.outbox.transaction((tx) => storages[1]!.outbox.add(tx, [m]));
    expect((await storages[2]!.outbox.get(m.id))?.status).toBe('pending');
  });

  it('migrationSql() builds working tables when run by another tool', async () => {
    const db = database.connect();
    const storage = createPostgresStorage({ db, pool: false, schema: 'own_tool' });
    const statements = storage.migrationSql();
    expect(statements[0]).toBe('CREATE SCHEMA IF NOT EXISTS "own_tool"');
    for (const statement of statements) await sql.raw(statement).execute(db);
    const m = message();
    await storage.inbox.transaction((tx) => storage.inbox.receive(tx, m));
    expect((await storage.inbox.get(m))?.status).toBe('received');
  });

  it('the claim statement uses the partial index of pending rows beside many sent rows', async () => {
    const log: CompiledQuery[] = [];
    const db = database.connect(4, log);
    const storage = createPostgresStorage({ db, pool: false, tablePrefix: 'plan_' });
    await storage.migrate();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, Array.from({ length: 5_000 }, () => message())));
    await sql`update plan_outbox set status = 'sent', sent_at = 0 where id in (select id from plan_outbox limit 4990)`.execute(db);
    await sql`analyze plan_outbox`.execute(db);
    log.length = 0;
    expect(await storage.outbox.claimDue({ token: 't', leaseMs: 1_000, limit: 5 })).toHaveLength(5);
    const claim = log.find((q) => q.sql.startsWith('update'))!;
    const inlined = claim.sql.replace(/\$(\d+)/g, (_, i: string) => sqlLiteral(claim.parameters[Number(i) - 1]));
    const plan = await sql.raw<{ 'QUERY PLAN': string }>(`explain ${inlined}`).execute(db);
    const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('Index Scan using plan_outbox_due');
    expect(text).toMatch(/Index Cond: \(available_at <=/);
  });

  it('a keyed claim reads the due index and probes the key-order index per keyed candidate; blockedKeys reads it too (both sides)', async () => {
    const log: CompiledQuery[] = [];
    const db = database.connect(4, log);
    const storage = createPostgresStorage({ db, pool: false, tablePrefix: 'kplan_' });
    await storage.migrate();
    const keyed = (n: number) => createMessage({ type: 'a.b', payload: n, source: 'test', key: `k${n % 50}` }, { now: new Date() });
    const rows = Array.from({ length: 5_000 }, (_, n) => keyed(n));
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, rows));
    await storage.inbox.transaction((tx) => storage.inbox.receiveMany!(tx, rows.map((message) => ({ message }))));
    await sql`update kplan_outbox set status = 'sent', sent_at = 0 where order_seq in (select order_seq from kplan_outbox order by order_seq limit 4000)`.execute(db);
    await sql`update kplan_inbox set status = 'processed', processed_at = 0 where order_seq in (select order_seq from kplan_inbox order by order_seq limit 4000)`.execute(db);
    await sql`analyze kplan_outbox`.execute(db);
    await sql`analyze kplan_inbox`.execute(db);
    const explain = async (q: CompiledQuery) => {
      const inlined = q.sql.replace(/\$(\d+)/g, (_, i: string) => sqlLiteral(q.parameters[Number(i) - 1]));
      return (await sql.raw<{ 'QUERY PLAN': string }>(`explain ${inlined}`).execute(db)).rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    for (const [store, table] of [[storage.outbox, 'kplan_outbox'], [storage.inbox, 'kplan_inbox']] as const) {
      log.length = 0;
      expect(await store.claimDue({ token: 't', leaseMs: 1_000, limit: 100 })).toHaveLength(50);
      const claim = await explain(log.find((q) => q.sql.startsWith('update'))!);
      expect(claim).toContain(`Index Scan using ${table}_due`);
      expect(claim).toMatch(new RegExp(`SubPlan[\\s\\S]*Index (Only )?Scan using ${table}_key_order on ${table} earlier`));
      log.length = 0;
      if (table === 'kplan_outbox') await storage.outbox.transaction((tx) => storage.outbox.blockedKeys!(tx, ['k1', 'k2'], { deadKey: 'skip' }));
      else await storage.inbox.transaction((tx) => storage.inbox.blockedKeys!(tx, [{ source: 'test', key: 'k1' }], { deadKey: 'block' }));
      expect(await explain(log.find((q) => q.sql.startsWith('select'))!)).toMatch(new RegExp(`(Index|Bitmap Index) (Only )?Scan on ${table}_key_order|Index (Only )?Scan using ${table}_key_order`));
    }
  });

  it('markSent of an expired claim is fenced out even while the new claim is committing (row re-checked under lock)', async () => {
    const db = database.connect(4);
    const storage = createPostgresStorage({ db, pool: false, tablePrefix: 'race_' });
    await storage.migrate();
    const m = message();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]));
    expect(await storage.outbox.claimDue({ token: 'old', leaseMs: 50, limit: 1 })).toHaveLength(1);
    const trx = await db.startTransaction().execute();
    const inside = createPostgresStorage({ db: trx, pool: false, tablePrefix: 'race_' });
    let taken: unknown[] = [];
    for (let i = 0; i < 500 && taken.length === 0; i++) {
      await sleep(10); // until the old lease has expired in database time
      taken = await inside.outbox.claimDue({ token: 'new', leaseMs: 60_000, limit: 1 });
    }
    expect(taken).toHaveLength(1);
    const stale = storage.outbox.markSent([{ id: m.id, token: 'old' }]);
    const waitingForLock = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = ${database.name} and wait_event_type = 'Lock'`.execute(db)).rows[0]!.n > 0;
    for (let i = 0; i < 500 && !(await waitingForLock()); i++) await sleep(10);
    expect(await waitingForLock()).toBe(true); // the stale update now waits for the new claimer's row lock
    await trx.commit().execute();
    expect(await stale).toEqual([]);
    expect(await storage.outbox.get(m.id)).toMatchObject({ status: 'pending', attempts: 2 });
    expect(await storage.outbox.markSent([{ id: m.id, token: 'new' }])).toEqual([m.id]);
  });

  it('an injected clock replaces database time', async () => {
    await expectInjectedClock(async (clock) => {
      const storage = createPostgresStorage({ db: database.connect(), pool: false, tablePrefix: 'clock_', clock });
      await storage.migrate();
      return storage.outbox;
    });
  });

  it('without listen there is no watch; notify can be switched off', async () => {
    const storage = createPostgresStorage({ db: database.connect(), pool: false, tablePrefix: 'nolisten_', notify: false });
    expect(storage.outbox.watch).toBeUndefined();
  });

  it('add is one statement in the caller\'s transaction, NOTIFY included; rows inserted already claimed notify nobody', { timeout: 30_000 }, async () => {
    const log: CompiledQuery[] = [];
    const db = database.connect(4, log);
    // Inserted at add (as in pgTransaction and your own transactions); write-at-commit.test.ts covers rows written with COMMIT.
    const storage = createPostgresStorage({ db, pool: false, tablePrefix: 'oneadd_', writeAtCommit: false });
    await storage.migrate();
    const channel = storage.tables.outboxRef;
    const listener = new pg.Client({ connectionString: database.url });
    const payloads: string[] = [];
    listener.on('notification', (n) => n.channel === channel && payloads.push(n.payload ?? ''));
    await listener.connect();
    await listener.query(`LISTEN "${channel}"`);
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 2_000 && !done(); i++) await sleep(10);
      expect(done()).toBe(true);
    };
    try {
      const statementsOfAdd = (opts?: { claim: { token: string; leaseMs: number } }, count = 1) =>
        storage.outbox.transaction(async (tx) => {
          const before = log.length;
          await storage.outbox.add(tx, Array.from({ length: count }, () => message()), opts);
          return log.slice(before).map((q) => q.sql);
        });

      const unclaimed = await statementsOfAdd();
      expect(unclaimed).toHaveLength(1);
      expect(unclaimed[0]).toMatch(/^with "inserted" as \(insert into/);
      expect(unclaimed[0]).toContain('pg_notify');
      await until(() => payloads.length === 1);

      const claimed = await statementsOfAdd({ claim: { token: 'mine', leaseMs: 60_000 } });
      expect(claimed).toHaveLength(1);
      expect(claimed[0]).not.toContain('pg_notify');
      await sql`select pg_notify(${channel}, 'sentinel')`.execute(db);
      await until(() => payloads.includes('sentinel'));
      expect(payloads).toEqual(['', 'sentinel']); // notifications arrive in commit order: none came from the claimed add

      const chunked = await statementsOfAdd(undefined, 1_200);
      expect(chunked).toHaveLength(3);
      expect(chunked.filter((q) => q.includes('pg_notify'))).toHaveLength(1);
      await until(() => payloads.length === 3);
      expect((await storage.outbox.stats()).pending).toBe(1_202);

      const quiet = createPostgresStorage({ db, pool: false, tablePrefix: 'oneadd_', notify: false, writeAtCommit: false });
      const plain = await quiet.outbox.transaction(async (tx) => {
        const before = log.length;
        await quiet.outbox.add(tx, [message()]);
        return log.slice(before).map((q) => q.sql);
      });
      expect(plain).toHaveLength(1);
      expect(plain[0]).not.toContain('pg_notify');
    } finally {
      await listener.end();
    }
  });

  it('the listener reconnects after its connection is killed and wakes again', { timeout: 30_000 }, async () => {
    const db = database.connect();
    const storage = createPostgresStorage({ db, pool: false, tablePrefix: 'relisten_', listen: database.url });
    await storage.migrate();
    let wakes = 0;
    const unsubscribe = await storage.outbox.watch!(() => void wakes++);
    try {
      const listeners = () =>
        sql<{ pid: number }>`select pid from pg_stat_activity where datname = ${database.name} and application_name = 'messagebox-listener'`.execute(db).then((r) => r.rows.map((x) => x.pid));
      const [first] = await listeners();
      expect(first).toBeDefined();
      await sql`select pg_terminate_backend(${first})`.execute(db);
      let current: number[] = [];
      for (let i = 0; i < 200 && !(current.length === 1 && current[0] !== first); i++) {
        await sleep(25);
        current = await listeners();
      }
      expect(current).toHaveLength(1);
      expect(current[0]).not.toBe(first);
      // Once it listens again it wakes once, since notifications sent meanwhile were lost.
      for (let i = 0; i < 1_000 && wakes === 0; i++) await sleep(10);
      expect(wakes).toBeGreaterThan(0);
      wakes = 0;
      await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message()]));
      for (let i = 0; i < 200 && wakes === 0; i++) await sleep(25);
      expect(wakes).toBeGreaterThan(0);
    } finally {
      await unsubscribe();
    }
  });
});
