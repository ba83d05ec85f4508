import { createOperations } from '@messagebox/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedWorld } from './support/seed.js';
import { databaseCounts, mysqlReachable, openMysqlStore, openPostgresStore, openSqliteStore, postgresReachable, type TestStore } from './support/stores.js';

const pgReachable = await postgresReachable();
const myReachable = await mysqlReachable();

describe.each([
  ['PostgreSQL', openPostgresStore, pgReachable],
  ['SQLite', openSqliteStore, true],
  ['MySQL/MariaDB', openMysqlStore, myReachable],
] as const)('the SQL store on %s for the dashboard', (_name, open, reachable) => {
  let store: TestStore;
  beforeAll(async () => {
    if (reachable) store = await open();
  });
  afterAll(() => store?.close());

  it.runIf(reachable)('walk inbox rows received in the same millisecond with the same id from several sources, each once, in order', async () => {
    const at = Date.now() - 1_000;
    const row = (source: string, id: string, receivedAt: number) => ({
      id,
      source,
      type: 't',
      payload: '{}',
      headers: '{}',
      created_at: receivedAt,
      status: 'dead',
      attempts: 3,
      received_at: receivedAt,
      available_at: receivedAt,
      last_error: 'handler threw',
    });
    const rows = [row('c', 'x', at), row('a', 'x', at), row('b', 'x', at), row('a', 'w', at), row('a', 'y', at), row('z', 'a', at - 1), row('a', 'a', at + 1)];
    await store.db.insertInto(store.inboxTable as never).values(rows as never).execute();
    const ops = createOperations({ inbox: store.inbox });
    const seen: string[] = [];
    let page = await ops.pageDead({ side: 'inbox', limit: 1 });
    for (;;) {
      seen.push(...page.messages.map((m) => `${m.source}/${m.id}`));
      if (!page.next) break;
      page = await ops.pageDead({ side: 'inbox', limit: 1, after: page.next });
    }
    expect(seen).toEqual(['z/a', 'a/w', 'a/x', 'b/x', 'c/x', 'a/y', 'a/a']);
    expect(await ops.countDead({ side: 'inbox' })).toEqual({ outbox: 0, inbox: 7, total: 7 });
    expect(await ops.countDead({ side: 'inbox', olderThanMs: 0, source: 'a' })).toEqual({ outbox: 0, inbox: 4, total: 4 });
    const overview = await ops.overview();
    expect(overview.inbox).toMatchObject({ dead: 7, waiting: 0, finished: 0, types: [{ type: 't', dead: 7 }] });
  });

  it.runIf(reachable)('overview: the counts the database holds, in flight, oldest age and this minute\'s throughput', async () => {
    await seedWorld(store.outbox, store.inbox);
    const ops = createOperations({ outbox: store.outbox, inbox: store.inbox });
    const report = await ops.overview({ buckets: 3 });
    for (const side of ['outbox', 'inbox'] as const) {
      const counts = await databaseCounts(store, side);
      const [waiting, finished] = side === 'outbox' ? ['pending', 'sent'] : ['received', 'processed'];
      for (const [type, of] of Object.entries(counts)) {
        const shown = report[side]!.types.find((t) => t.type === type)!;
        expect(shown, `${side} ${type}`).toMatchObject({ waiting: of[waiting] ?? 0, finished: of[finished] ?? 0, dead: of.dead ?? 0, inFlight: of.inFlight ?? 0 });
        const finishedNow = shown.throughput.reduce((a, b) => a + b, 0);
        expect(finishedNow, `${side} ${type} throughput`).toBe(of[finished] ?? 0);
      }
    }
    const payments = report.outbox!.types.find((t) => t.type === 'payment.created')!;
    expect(payments.oldestWaitingAgeMs).toBeGreaterThanOrEqual(0);
    expect(payments.oldestWaitingAt).not.toBeNull();
    expect(payments.maxAttempts).toBe(1);
    expect(payments.waitingAttempts).toBe(2);
  });
});
