import { createMessage, createOperations, type Message } from '@messagebox/core';
import { sqlLiteral } from '@messagebox/testkit';
import { sql, type CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore, postgresReachable, type TestStore } from './support/stores.js';

const reachable = await postgresReachable();

/** Rows in bulk, straight into the tables: sent, waiting and dead rows of a few types. */
async function fill(store: TestStore, finished: number, dead: number) {
  const now = Date.now();
  const rows = (n: number, status: string, at: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => {
      const m: Message = createMessage({ type: `type.${i % 5}`, source: 'vault', payload: { i } }, { now: new Date(at(i)) });
      return { id: m.id, source: m.source, type: m.type, payload: '{}', headers: '{}', created_at: at(i), status, attempts: 1, available_at: at(i), last_error: status === 'dead' ? `HTTP ${500 + (i % 4)}` : null };
    });
  const insert = async (table: string, values: Record<string, unknown>[]) => {
    for (let i = 0; i < values.length; i += 1_000) await store.db.insertInto(table as never).values(values.slice(i, i + 1_000) as never).execute();
  };
  await insert(store.outboxTable, [...rows(finished, 'sent', (i) => now - i * 10).map((r) => ({ ...r, sent_at: r.created_at })), ...rows(dead, 'dead', (i) => now - i), ...rows(50, 'pending', () => now)]);
  await insert(store.inboxTable, [
    ...rows(finished, 'processed', (i) => now - i * 10).map((r) => ({ ...r, received_at: r.created_at, processed_at: r.created_at })),
    ...rows(dead, 'dead', (i) => now - i).map((r) => ({ ...r, received_at: r.created_at })),
    ...rows(50, 'received', () => now).map((r) => ({ ...r, received_at: r.created_at })),
  ]);
  await sql.raw(`vacuum analyze ${store.outboxTable}`).execute(store.db);
  await sql.raw(`vacuum analyze ${store.inboxTable}`).execute(store.db);
}

/** The plan of a logged query with its parameters inlined, with sequential scans allowed or not. */
async function plan(store: TestStore, query: CompiledQuery, options: { seqscan: boolean }): Promise<string> {
  const inlined = query.sql.replace(/\$(\d+)/g, (_, i: string) => sqlLiteral(query.parameters[Number(i) - 1]));
  return store.db.connection().execute(async (conn) => {
    await sql.raw(`set enable_seqscan = ${options.seqscan ? 'on' : 'off'}`).execute(conn);
    try {
      const { rows } = await sql.raw<{ 'QUERY PLAN': string }>(`explain ${inlined}`).execute(conn);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await sql.raw('reset enable_seqscan').execute(conn);
    }
  });
}

describe.runIf(reachable)('the dashboard queries on PostgreSQL use indexes (EXPLAIN)', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openPostgresStore();
    await fill(store, 20_000, 5_000);
  });
  afterAll(() => store?.close());

  async function queriesOf(run: () => Promise<unknown>): Promise<CompiledQuery[]> {
    store.log.length = 0;
    await run();
    return store.log.filter((q) => /^select/i.test(q.sql));
  }

  it('the overview: waiting rows, finished and dead rows by type, throughput buckets', async () => {
    const ops = createOperations({ outbox: store.outbox, inbox: store.inbox });
    const queries = await queriesOf(() => ops.overview());
    expect(queries).toHaveLength(8);
    for (const query of queries) {
      for (const seqscan of [false, true]) {
        const text = await plan(store, query, { seqscan });
        expect(text, query.sql).not.toMatch(/Seq Scan/);
        expect(text, query.sql).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
      }
    }
    const planOf = async (pattern: RegExp) => {
      const found = queries.filter((q) => pattern.test(q.sql));
      expect(found, String(pattern)).toHaveLength(1);
      return plan(store, found[0]!, { seqscan: true });
    };
    // Counts by type come from the partial indexes alone.
    expect(await planOf(/messagebox_outbox" where "status" = 'sent' group by "type"/)).toMatch(/Index Only Scan using messagebox_outbox_sent_type/);
    expect(await planOf(/messagebox_outbox" where "status" = 'dead' group by "type"/)).toMatch(/Index Only Scan using messagebox_outbox_dead/);
    expect(await planOf(/messagebox_inbox" where "status" = 'processed' group by "type"/)).toMatch(/Index Only Scan using messagebox_inbox_processed_type/);
    expect(await planOf(/messagebox_inbox" where "status" = 'dead' group by "type"/)).toMatch(/Index Only Scan using messagebox_inbox_dead/);
    expect(await planOf(/messagebox_outbox" where "status" = 'pending'/)).toMatch(/messagebox_outbox_due/);
    expect(await planOf(/messagebox_outbox" where "status" = 'sent' and "sent_at" >=/)).toMatch(/messagebox_outbox_sent\b/);
  });

  it('a dead-letter page (keyset) and its count, with and without filters', async () => {
    const ops = createOperations({ outbox: store.outbox, inbox: store.inbox });
    for (const side of ['outbox', 'inbox'] as const) {
      const first = await ops.pageDead({ side, limit: 50 });
      const queries = await queriesOf(async () => {
        await ops.pageDead({ side, limit: 50, after: first.next! });
        await ops.pageDead({ side, limit: 50, type: 'type.3', errorContains: '503', after: first.next! });
        await ops.countDead({ side, type: 'type.3' });
      });
      expect(queries).toHaveLength(3);
      const plans = await Promise.all(queries.map((q) => plan(store, q, { seqscan: true })));
      // Pages walk the partial index of dead rows in list order (no sort); the count reads it alone.
      expect(plans[0]).toMatch(new RegExp(`Index Scan using \\w+_${side}_dead`));
      expect(plans[0]).not.toMatch(/Sort/);
      for (const [i, text] of plans.entries()) {
        expect(text, queries[i]!.sql).toMatch(new RegExp(`_${side}_dead`));
        expect(text, queries[i]!.sql).not.toMatch(/Seq Scan/);
      }
    }
  });
});
