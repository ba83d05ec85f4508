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

  it('the overview: counts by (status, type), waiting rows, throughput buckets', async () => {
    const ops = createOperations({ outbox: store.outbox, inbox: store.inbox });
    const queries = await queriesOf(() => ops.overview());
    expect(queries).toHaveLength(6);
    for (const query of queries) {
      const text = await plan(store, query, { seqscan: false });
      expect(text, query.sql).not.toMatch(/Seq Scan/);
      expect(text, query.sql).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
    }
    const plans = await Promise.all(queries.map((q) => plan(store, q, { seqscan: true })));
    // With the planner free to choose, the selective ones still go through their partial indexes.
    const selective = plans.filter((_, i) => /sent_at|processed_at|lease_until/.test(queries[i]!.sql));
    expect(selective).toHaveLength(4);
    for (const text of selective) expect(text).toMatch(/_due|_sent|_processed|_status_type/);
    const counts = plans.filter((_, i) => /group by "status", "type"/.test(queries[i]!.sql));
    expect(counts).toHaveLength(2);
    for (const text of counts) expect(text).toMatch(/Index Only Scan using \w+_status_type/);
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
      // The plain page walks the partial index of dead rows in list order; a type filter may go through (status, type) instead.
      expect(plans[0]).toMatch(new RegExp(`Index Scan using \\w+_${side}_dead`));
      expect(plans[0]).not.toMatch(/Sort/);
      for (const [i, text] of plans.entries()) {
        expect(text, queries[i]!.sql).toMatch(/_dead|_status_type/);
        expect(text, queries[i]!.sql).not.toMatch(/Seq Scan/);
      }
    }
  });
});
