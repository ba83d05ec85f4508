import { migrations } from '@messagebox/kysely';
import { createMessage } from '@messagebox/core';
import { expectInjectedClock, requireDatabase, sqlLiteral } from '@messagebox/testkit';
import { sql, type CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlStorage } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);
const message = () => createMessage({ type: 'a.b', payload: { x: 1 }, source: 'test' }, { now: new Date() });

describe.runIf(reachable)('mysql storage', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('migrate() is idempotent, also when several run at once', async () => {
    const db = database.connect();
    const storages = Array.from({ length: 3 }, () => createMysqlStorage({ db, tablePrefix: 'app_' }));
    const applied = await Promise.all(storages.map((s) => s.migrate()));
    expect(applied.flat()).toEqual(migrations.map((m) => m.name));
    expect(await storages[0]!.migrate()).toEqual([]);
    const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = ${database.name} and table_name like 'app\\_%' order by table_name`.execute(db);
    expect(tables.rows.map((r) => r.name)).toEqual(['app_inbox', 'app_migrations', 'app_outbox']);
  });

  it('migrationSql() builds working tables when run by another tool', async () => {
    const db = database.connect();
    const storage = createMysqlStorage({ db, tablePrefix: 'own_' });
    for (const statement of storage.migrationSql()) await sql.raw(statement).execute(db);
    const m = message();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]));
    expect((await storage.outbox.get(m.id))?.status).toBe('pending');
  });

  it('the claim select uses the (status, available_at, lease_until) index', async () => {
    const log: CompiledQuery[] = [];
    const db = database.connect(4, log);
    const storage = createMysqlStorage({ db, tablePrefix: 'plan_' });
    await storage.migrate();
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, Array.from({ length: 3_000 }, () => message())));
    await sql`update plan_outbox set status = 'sent', sent_at = 0 order by id limit 2990`.execute(db);
    await sql`analyze table plan_outbox`.execute(db);
    log.length = 0;
    expect(await storage.outbox.claimDue({ token: 't', leaseMs: 1_000, limit: 5 })).toHaveLength(5);
    const select = log.find((q) => q.sql.includes('skip locked'))!;
    const parameters = [...select.parameters];
    const inlined = select.sql.replace(/ for update skip locked$/, '').replace(/\?/g, () => sqlLiteral(parameters.shift()));
    const plan = await sql.raw<{ key: string | null }>(`explain ${inlined}`).execute(db);
    expect(plan.rows[0]?.key).toBe('plan_outbox_due');
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
