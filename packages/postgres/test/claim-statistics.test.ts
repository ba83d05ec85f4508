import { createMessage, MessageboxError } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimStatisticsKeeper } from '../src/claim-statistics.js';
import { createPostgresStorage, type PostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

/** When `ANALYZE` (not autovacuum's) last ran on `table`, or null; read in a fresh snapshot of the statistics. */
async function lastAnalyze(db: Kysely<unknown>, table: string): Promise<Date | null> {
  const { rows } = await sql<{ at: Date | null }>`select last_analyze as at from pg_stat_user_tables where relname = ${table}`.execute(db);
  await sql`select pg_stat_clear_snapshot()`.execute(db);
  return rows[0]?.at ?? null;
}

async function waitForAnalyze(db: Kysely<unknown>, table: string): Promise<Date> {
  for (let i = 0; i < 600; i++) {
    const at = await lastAnalyze(db, table);
    if (at) return at;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${table} was not analyzed within 30 s`);
}

const messages = (n: number) => Array.from({ length: n }, (_, i) => createMessage({ type: 't', payload: i }, { source: 's', now: new Date() }));

describe.runIf(reachable)('postgres: a slow full claim refreshes the planner statistics of its table', () => {
  let database: TestDatabase;
  let storage: PostgresStorage<unknown>;
  beforeAll(async () => {
    database = await createTestDatabase();
    storage = createPostgresStorage({ connectionString: database.url, tablePrefix: 'stats_', claimStatistics: { slowClaimMs: 0 } });
    await storage.migrate();
  });
  afterAll(async () => {
    await storage?.destroy();
    await database?.drop();
  });

  it('a claim that came back full analyzes the outbox table once; the drain goes on meanwhile', { timeout: 60_000 }, async () => {
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, messages(500)));
    expect(await lastAnalyze(storage.db, 'stats_outbox')).toBeNull();
    const first = await storage.outbox.claimDue({ limit: 100, token: 'a', leaseMs: 60_000 });
    expect(first).toHaveLength(100);
    const analyzed = await waitForAnalyze(storage.db, 'stats_outbox');
    const second = await storage.outbox.claimDue({ limit: 100, token: 'b', leaseMs: 60_000 });
    expect(second).toHaveLength(100);
    expect(new Set([...first, ...second].map((c) => c.id)).size).toBe(200);
    // within the minute, no second ANALYZE
    expect(await lastAnalyze(storage.db, 'stats_outbox')).toEqual(analyzed);
  });

  it('the inbox claim is watched the same way', { timeout: 60_000 }, async () => {
    for (const message of messages(50)) await storage.inbox.transaction((tx) => storage.inbox.receive(tx, message));
    const claimed = await storage.inbox.claimDue({ limit: 50, token: 'i', leaseMs: 60_000 });
    expect(claimed).toHaveLength(50);
    await waitForAnalyze(storage.db, 'stats_inbox');
  });

  it('so is the outbox\'s sent mark of several rows (without statistics it reads the due index over the whole backlog)', { timeout: 60_000 }, async () => {
    const sent = createPostgresStorage({ connectionString: database.url, tablePrefix: 'sent_', claimStatistics: { slowClaimMs: 0 } });
    try {
      await sent.migrate();
      await sent.outbox.transaction((tx) => sent.outbox.add(tx, messages(10)));
      const claimed = await sent.outbox.claimDue({ limit: 50, token: 's', leaseMs: 60_000 }); // not full: this claim analyzes nothing
      expect(claimed).toHaveLength(10);
      await sql`select 1`.execute(sent.db);
      expect(await lastAnalyze(sent.db, 'sent_outbox')).toBeNull();
      expect(await sent.outbox.markSent(claimed.map((row) => ({ id: row.id, token: 's' })))).toHaveLength(10);
      await waitForAnalyze(sent.db, 'sent_outbox');
      expect(await sent.outbox.stats()).toMatchObject({ pending: 0, sent: 10 });
    } finally {
      await sent.destroy();
    }
  });

  it('so is a batch\'s processed mark of several inbox rows (its plan walks every row of the sender without statistics); the mark commits as usual', { timeout: 60_000 }, async () => {
    const marks = createPostgresStorage({ connectionString: database.url, tablePrefix: 'marks_', claimStatistics: { slowClaimMs: 0 } });
    try {
      await marks.migrate();
      await marks.inbox.transaction((tx) => marks.inbox.receiveMany!(tx, messages(10).map((message) => ({ message }))));
      const claimed = await marks.inbox.claimDue({ limit: 50, token: 'm', leaseMs: 60_000 }); // not full: this claim analyzes nothing
      expect(claimed).toHaveLength(10);
      await sql`select 1`.execute(marks.db);
      expect(await lastAnalyze(marks.db, 'marks_inbox')).toBeNull();
      const keys = claimed.map((row) => ({ source: row.source, id: row.id, token: 'm' }));
      const marked = await marks.inbox.transaction((tx) => marks.inbox.markProcessedMany!(tx, keys));
      expect(marked).toHaveLength(10);
      await waitForAnalyze(marks.db, 'marks_inbox');
      expect(await marks.inbox.stats()).toMatchObject({ received: 0, processed: 10 });
    } finally {
      await marks.destroy();
    }
  });
});

describe.runIf(reachable)('postgres: the claim statistics keeper', () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.connect(2);
    await sql`create table kept (n int)`.execute(db);
    await sql`insert into kept select generate_series(1, 100)`.execute(db);
  });
  afterAll(() => database?.drop());

  it('analyzes only after a claim that was full and slow, and not again within the interval', { timeout: 60_000 }, async () => {
    const keeper = claimStatisticsKeeper({ slowClaimMs: 20, minIntervalMs: 60_000 });
    keeper.observe(db, 'kept', { rows: 99, limit: 100, ms: 500 }); // not full
    keeper.observe(db, 'kept', { rows: 100, limit: 100, ms: 5 }); // fast
    // a statement on the same pool after both: had either started an ANALYZE, it would have been sent first
    await sql`select 1`.execute(db);
    expect(await lastAnalyze(db, 'kept')).toBeNull();
    keeper.observe(db, 'kept', { rows: 100, limit: 100, ms: 25 });
    const at = await waitForAnalyze(db, 'kept');
    keeper.observe(db, 'kept', { rows: 100, limit: 100, ms: 25 });
    await sql`select 1`.execute(db);
    expect(await lastAnalyze(db, 'kept')).toEqual(at);
  });

  it('takes a keyed mark of several rows that changed them all and was slow as the same sign; a mark of one key never', { timeout: 60_000 }, async () => {
    await sql`create table marked (n int)`.execute(db);
    const keeper = claimStatisticsKeeper({ slowClaimMs: 20, minIntervalMs: 60_000 });
    keeper.observeKeyedUpdate(db, 'marked', { keys: 1, rows: 1, ms: 500 }); // one key: looked up by the whole primary key, whatever the statistics
    keeper.observeKeyedUpdate(db, 'marked', { keys: 100, rows: 99, ms: 500 }); // a row was not changed (no longer its claim)
    keeper.observeKeyedUpdate(db, 'marked', { keys: 100, rows: 100, ms: 5 }); // fast
    await sql`select 1`.execute(db);
    expect(await lastAnalyze(db, 'marked')).toBeNull();
    keeper.observeKeyedUpdate(db, 'marked', { keys: 100, rows: 100, ms: 25 });
    await waitForAnalyze(db, 'marked');
  });

  it('is shared between processes: skipped while another holds the table\'s lock, and when anyone analyzed within the interval', { timeout: 60_000 }, async () => {
    await sql`create table shared_kept (n int)`.execute(db);
    await sql`insert into shared_kept select generate_series(1, 100)`.execute(db);
    const single = database.connect(1); // one connection: a statement sent after observe() runs after its ANALYZE transaction
    const other = database.connect(1);
    try {
      const slow = { rows: 100, limit: 100, ms: 25 };
      // another process is analyzing it: its advisory lock is held
      await other.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtextextended('messagebox analyze shared_kept', 0))`.execute(trx);
        claimStatisticsKeeper({ slowClaimMs: 20 }).observe(single, 'shared_kept', slow);
        await sql`select 1`.execute(single);
      });
      expect(await lastAnalyze(db, 'shared_kept')).toBeNull();
      // free: this one analyzes
      claimStatisticsKeeper({ slowClaimMs: 20 }).observe(single, 'shared_kept', slow);
      await sql`select 1`.execute(single);
      const at = await lastAnalyze(db, 'shared_kept');
      expect(at).not.toBeNull();
      // a second process within the interval leaves it alone; one whose interval is 0 sees it as due
      claimStatisticsKeeper({ slowClaimMs: 20, minIntervalMs: 60_000 }).observe(single, 'shared_kept', slow);
      await sql`select 1`.execute(single);
      expect(await lastAnalyze(db, 'shared_kept')).toEqual(at);
      claimStatisticsKeeper({ slowClaimMs: 20, minIntervalMs: 0 }).observe(single, 'shared_kept', slow);
      await sql`select 1`.execute(single);
      expect((await lastAnalyze(db, 'shared_kept'))!.getTime()).toBeGreaterThan(at!.getTime());
    } finally {
      await single.destroy();
      await other.destroy();
    }
  });

  it('refuses options that are not finite non-negative numbers, naming the option', () => {
    expect(() => claimStatisticsKeeper({ slowClaimMs: -1 })).toThrow(MessageboxError);
    expect(() => claimStatisticsKeeper({ minIntervalMs: Number.NaN })).toThrow(/claimStatistics\.minIntervalMs/);
    expect(() => claimStatisticsKeeper('fast' as never)).toThrow(/claimStatistics must be an object or false/);
    expect(() => createPostgresStorage({ connectionString: 'postgres://x@127.0.0.1/none', claimStatistics: { slowClaimMs: Infinity } })).toThrow(/claimStatistics\.slowClaimMs/);
  });
});
