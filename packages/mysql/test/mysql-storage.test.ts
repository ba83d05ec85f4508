import { createMessage, createOutbox, MessageboxError, type Message } from '@messagebox/core';
import { migrations } from '@messagebox/kysely';
import { expectInjectedClock, requireDatabase, sqlLiteral } from '@messagebox/testkit';
import { CompiledQuery, Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlStorage, mysqlDialect } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';
import { ensureTimeZone } from './support/time-zone.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);
const message = () => createMessage({ type: 'a.b', payload: { x: 1 }, source: 'test' }, { now: new Date() });

describe.runIf(reachable)('mysql storage', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  /** A pool whose sessions use `zone` and, when given, a frozen `NOW()` at epoch ms `at`. */
  const zoned = (zone: string, at?: number) =>
    new Kysely<unknown>({
      dialect: new MysqlDialect({
        pool: createPool({ uri: database.url, connectionLimit: 2 }),
        onCreateConnection: async (conn) => {
          await conn.executeQuery(CompiledQuery.raw(`set time_zone = '${zone}'`));
          if (at !== undefined) await conn.executeQuery(CompiledQuery.raw(`set timestamp = ${(at / 1000).toFixed(3)}`));
        },
      }),
    });

  it('migrate() is idempotent, also when several run at once', async () => {
    const db = database.connect();
    const storages = Array.from({ length: 3 }, () => createMysqlStorage({ db, tablePrefix: 'app_' }));
    const applied = await Promise.all(storages.map((s) => s.migrate()));
    expect(applied.flat()).toEqual(migrations.map((m) => m.name));
    expect(await storages[0]!.migrate()).toEqual([]);
    const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = ${database.name} and table_name like 'app\\_%' order by table_name`.execute(db);
    expect(tables.rows.map((r) => r.name)).toEqual(['app_destinations', 'app_inbox', 'app_migrations', 'app_outbox']);
  });

  it('migrationSql() builds working tables when run by another tool', async () => {
    const db = database.connect();
    const storage = createMysqlStorage({ db, tablePrefix: 'own_' });
    for (const statement of storage.migrationSql()) await sql.raw(statement).execute(db);
    const m = message();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]));
    expect((await storage.outbox.get(m.id))?.status).toBe('pending');
  });

  it('claims read the claim index in due order: an index range, no table scan, no filesort (500 of 3,000 rows waiting)', async () => {
    const log: CompiledQuery[] = [];
    const db = database.connect(4, log);
    const storage = createMysqlStorage({ db, tablePrefix: 'plan_' });
    await storage.migrate();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, Array.from({ length: 3_000 }, () => message())));
    await sql`update plan_outbox set status = 'sent', sent_at = 0 order by id limit 2500`.execute(db);
    await sql`insert into plan_inbox (id, source, type, payload, headers, created_at, status, attempts, received_at, available_at)
      select id, source, type, payload, headers, created_at, if(status = 'sent', 'processed', 'received'), 0, created_at, available_at from plan_outbox`.execute(db);
    await sql`analyze table plan_outbox, plan_inbox`.execute(db);
    const plans: Record<string, unknown>[] = [];
    for (const store of [storage.outbox, storage.inbox] as const) {
      log.length = 0;
      expect(await store.claimDue({ token: 't', leaseMs: 1_000, limit: 5 })).toHaveLength(5);
      const select = log.find((q) => q.sql.includes('skip locked'))!;
      const parameters = [...select.parameters];
      const inlined = select.sql.replace(/\?/g, () => sqlLiteral(parameters.shift()));
      plans.push(...(await sql.raw<Record<string, unknown>>(`explain ${inlined}`).execute(db)).rows);
    }
    // Each claim scans the claim index; its key-order probe (a dependent subquery, run only for keyed candidates: none here) is checked with keys below.
    expect(plans.filter((p) => p.select_type === 'PRIMARY').map((p) => p.key)).toEqual(['plan_outbox_claim', 'plan_inbox_claim']);
    expect(plans.map((p) => p.select_type)).toEqual(['PRIMARY', 'DEPENDENT SUBQUERY', 'PRIMARY', 'DEPENDENT SUBQUERY']);
    for (const plan of plans) {
      expect(plan.type).not.toBe('ALL');
      expect(String(plan.Extra)).not.toMatch(/filesort/i);
    }
  });

  it('a keyed claim reads the claim index and probes the key-order index per keyed candidate (a dependent subquery, no table scan); blockedKeys reads it too', async () => {
    const log: CompiledQuery[] = [];
    const db = database.connect(4, log);
    const storage = createMysqlStorage({ db, tablePrefix: 'kplan_' });
    await storage.migrate();
    const keyed = (n: number) => createMessage({ type: 'a.b', payload: n, source: 'test', key: `k${n % 50}` }, { now: new Date() });
    const rows = Array.from({ length: 3_000 }, (_, n) => keyed(n));
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, rows));
    await storage.inbox.transaction((tx) => storage.inbox.receiveMany!(tx, rows.map((message) => ({ message }))));
    await sql`update kplan_outbox set status = 'sent', sent_at = 0 order by order_seq limit 2500`.execute(db);
    await sql`update kplan_inbox set status = 'processed', processed_at = 0 order by order_seq limit 2500`.execute(db);
    await sql`analyze table kplan_outbox, kplan_inbox`.execute(db);
    const explain = async (q: CompiledQuery) => {
      const parameters = [...q.parameters];
      const inlined = q.sql.replace(/\?/g, () => sqlLiteral(parameters.shift()));
      return (await sql.raw<Record<string, unknown>>(`explain ${inlined}`).execute(db)).rows;
    };
    for (const [store, table] of [[storage.outbox, 'kplan_outbox'], [storage.inbox, 'kplan_inbox']] as const) {
      log.length = 0;
      expect(await store.claimDue({ token: 't', leaseMs: 1_000, limit: 100 })).toHaveLength(50);
      const plan = await explain(log.find((q) => q.sql.includes('skip locked'))!);
      expect(plan.map((p) => [p.select_type, p.key])).toEqual([['PRIMARY', `${table}_claim`], ['DEPENDENT SUBQUERY', `${table}_key_order`]]);
      for (const p of plan) expect(p.type).not.toBe('ALL');
      log.length = 0;
      if (table === 'kplan_outbox') await storage.outbox.transaction((tx) => storage.outbox.blockedKeys!(tx, ['k1', 'k2'], { deadKey: 'skip' }));
      else await storage.inbox.transaction((tx) => storage.inbox.blockedKeys!(tx, [{ source: 'test', key: 'k1' }], { deadKey: 'block' }));
      const blocked = await explain(log.find((q) => q.sql.startsWith('select'))!);
      expect(blocked.map((p) => p.key)).toEqual([`${table}_key_order`]);
    }
  });

  it('migrate() moves an existing database onto the claim index', async () => {
    const db = database.connect(1);
    const storage = createMysqlStorage({ db, tablePrefix: 'old_' });
    await sql.raw(storage.migrationSql()[0]!).execute(db);
    await sql.raw(storage.migrationSql()[1]!).execute(db);
    for (const statement of mysqlDialect.createMigrationsTable(storage.tables)) await sql.raw(statement).execute(db);
    await sql`insert into old_migrations (name, applied_at) values ('0001_create_outbox_and_inbox', 0)`.execute(db);
    expect(await storage.migrate()).toContain('0003_mysql_claim_order');
    const indexes = await sql<{ name: string }>`select distinct index_name as name from information_schema.statistics
      where table_schema = ${database.name} and table_name = 'old_outbox' order by index_name`.execute(db);
    expect(indexes.rows.map((r) => r.name)).toEqual(['old_outbox_claim', 'old_outbox_key_order', 'old_outbox_order_seq', 'old_outbox_sent', 'old_outbox_status_created', 'PRIMARY']);
  });

  it('database time is UTC epoch ms whatever the session time zone, also across a daylight-saving fall-back', async (context) => {
    const problem = await ensureTimeZone('Europe/Berlin');
    const zones = ['+05:00', '-09:30', ...(problem ? [] : ['Europe/Berlin'])];
    for (const zone of zones) {
      const db = zoned(zone);
      try {
        const { rows } = await sql<{ now: number | string }>`select ${mysqlDialect.nowMs()} as now`.execute(db);
        expect(Math.abs(Number(rows[0]!.now) - Date.now()), zone).toBeLessThan(60_000);
      } finally {
        await db.destroy();
      }
    }
    if (problem) {
      if (process.env.CI === 'true') throw new Error(`[messagebox] cannot test a daylight-saving zone: ${problem}`);
      return context.skip(`cannot test a daylight-saving zone: ${problem}`);
    }
    // Europe/Berlin falls back at 01:00 UTC on 2026-10-25: local 02:00–03:00 happens twice.
    for (const instant of ['2026-10-25T00:30:00.250Z', '2026-10-25T01:30:00.250Z', '2026-10-25T02:30:00.250Z']) {
      const at = Date.parse(instant);
      const db = zoned('Europe/Berlin', at);
      try {
        const storage = createMysqlStorage({ db, tablePrefix: 'tz_' });
        await storage.migrate();
        const m = message();
        await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]));
        expect((await storage.outbox.get(m.id))?.availableAt.toISOString(), instant).toBe(instant);
        const [claimed] = await storage.outbox.claimDue({ ids: [m.id], token: 't', leaseMs: 1_000, limit: 1 });
        expect(claimed?.leaseUntil?.getTime(), instant).toBe(at + 1_000);
      } finally {
        await db.destroy();
      }
    }
  });

  it('migrate() fails with a MessageboxError when another session holds the migration lock past the timeout', async () => {
    const holder = database.connect(1);
    const db = database.connect(1);
    await holder.connection().execute(async (conn) => {
      const { rows } = await sql<{ locked: number }>`select get_lock('messagebox.migrate', 30) as locked`.execute(conn);
      expect(Number(rows[0]!.locked)).toBe(1);
      try {
        const error = await createMysqlStorage({ db, tablePrefix: 'locked_', migrationLockTimeoutMs: 1_000 }).migrate().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(MessageboxError);
        expect(error).toMatchObject({ code: 'store_failed', message: expect.stringMatching(/^\[messagebox\] .*messagebox\.migrate/) });
      } finally {
        await sql`select release_lock('messagebox.migrate')`.execute(conn);
      }
    });
    const tables = await sql`select table_name from information_schema.tables where table_schema = ${database.name} and table_name like 'locked\\_%'`.execute(db);
    expect(tables.rows).toEqual([]);
    expect(await createMysqlStorage({ db, tablePrefix: 'locked_', migrationLockTimeoutMs: 1_000 }).migrate()).toEqual(migrations.map((m) => m.name));
  });

  it('a deadlock caught inside outbox.transaction() rolls the whole transaction back: it rejects and nothing is sent', { timeout: 60_000 }, async () => {
    const db = database.connect(4);
    const storage = createMysqlStorage({ db, tablePrefix: 'deadlock_' });
    await storage.migrate();
    await sql`create table deadlock_t (id int primary key, v int)`.execute(db);
    await sql`create table deadlock_heavy (id int primary key)`.execute(db);
    await sql`insert into deadlock_t values (1, 0), (2, 0)`.execute(db);
    const sent: string[] = [];
    const outbox = createOutbox({ store: storage.outbox, source: 's', logger: { debug() {}, info() {}, warn() {}, error() {} } }).configure('t', {
      transport: { name: 'recording', send: async (m: Message) => void sent.push(m.id) },
    });
    const other = database.connect(1);
    let added: Message | undefined;
    let deadlock: unknown;
    const run = outbox.transaction(async (tx) => {
      added = await outbox.add(tx, { type: 't', payload: 1 });
      await sql`update deadlock_t set v = 1 where id = 1`.execute(tx);
      await other.connection().execute(async (conn) => {
        await sql`begin`.execute(conn);
        // The heavier transaction: InnoDB rolls back the lighter one (this outbox transaction) to break the deadlock.
        await sql`insert into deadlock_heavy (id) values ${sql.join(Array.from({ length: 200 }, (_, id) => sql`(${id})`))}`.execute(conn);
        await sql`update deadlock_t set v = 2 where id = 2`.execute(conn);
        await Promise.all([
          sql`update deadlock_t set v = 1 where id = 2`.execute(tx).catch((error: unknown) => void (deadlock = error)),
          sql`update deadlock_t set v = 2 where id = 1`.execute(conn),
        ]);
        await sql`commit`.execute(conn);
      });
      return 'done';
    });
    await expect(run).rejects.toMatchObject({ code: 'store_failed' });
    expect(String(deadlock)).toMatch(/deadlock/i);
    await outbox.idle();
    expect(sent).toEqual([]);
    expect(await storage.outbox.get(added!.id)).toBeNull();
    await other.destroy();
  });

  it('an injected clock replaces database time', async () => {
    const outbox = await expectInjectedClock(async (clock) => {
      const storage = createMysqlStorage({ db: database.connect(), tablePrefix: 'clock_', clock });
      await storage.migrate();
      return storage.outbox;
    });
    expect(outbox.watch).toBeUndefined();
  });
});
