// Dead-letter pages with 100,000 dead rows, on PostgreSQL and SQLite: the
// time of a first page, a page 1,000 pages deep (keyset cursor), a filtered
// page, the count the confirmation shows, and the overview; beside the same
// deep page fetched with OFFSET, measured in the same run. Prints numbers;
// asserts nothing about time.
import { createMessage, createOperations } from '@messagebox/core';
import { sql } from 'kysely';
import { openPostgresStore, openSqliteStore, type TestStore } from '../test/support/stores.js';

const DEAD = Number(process.env.DEAD_ROWS ?? 100_000);
const PAGE = 50;
const RUNS = 5;

async function fill(store: TestStore): Promise<void> {
  const now = Date.now();
  for (let start = 0; start < DEAD; start += 1_000) {
    const rows = Array.from({ length: Math.min(1_000, DEAD - start) }, (_, j) => {
      const i = start + j;
      const at = now - (DEAD - i) * 10;
      const m = createMessage({ type: `type.${i % 10}`, source: 'vault', payload: { i } }, { now: new Date(at) });
      return { id: m.id, source: 'vault', type: m.type, payload: JSON.stringify({ i }), headers: '{}', created_at: at, status: 'dead', attempts: 8, available_at: at, last_error: `HTTP ${500 + (i % 4)} from ledger` };
    });
    await store.db.insertInto(store.outboxTable as never).values(rows as never).execute();
  }
  await sql.raw(store.kind === 'postgres' ? `vacuum analyze ${store.outboxTable}` : 'analyze').execute(store.db);
}

/** Median of `RUNS` timings of `fn`, in ms. */
async function median(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

async function bench(name: string, open: () => Promise<TestStore>): Promise<void> {
  const store = await open();
  try {
    const filled = performance.now();
    await fill(store);
    console.log(`${name}: ${DEAD.toLocaleString('en')} dead outbox rows written in ${((performance.now() - filled) / 1000).toFixed(1)} s`);
    const ops = createOperations({ outbox: store.outbox });
    let deep = (await ops.pageDead({ side: 'outbox', limit: PAGE })).next!;
    for (let i = 1; i < 1_000; i++) deep = (await ops.pageDead({ side: 'outbox', limit: PAGE, after: deep })).next!;
    const depth = 1_000 * PAGE;
    const results: Array<[string, number]> = [
      ['first page', await median(() => ops.pageDead({ side: 'outbox', limit: PAGE }))],
      [`page 1,001 (keyset, after row ${depth.toLocaleString('en')})`, await median(() => ops.pageDead({ side: 'outbox', limit: PAGE, after: deep }))],
      [
        `page 1,001 with OFFSET ${depth.toLocaleString('en')} (baseline)`,
        await median(() => store.db.selectFrom(store.outboxTable as never).selectAll().where('status' as never, '=', 'dead' as never).orderBy('created_at' as never).orderBy('id' as never).limit(PAGE).offset(depth).execute()),
      ],
      ['filtered page (type + error text)', await median(() => ops.pageDead({ side: 'outbox', limit: PAGE, type: 'type.3', errorContains: '503' }))],
      ['count for the confirmation (type + error)', await median(() => ops.countDead({ side: 'outbox', type: 'type.3', errorContains: '503' }))],
      ['count of every dead row', await median(() => ops.countDead({ side: 'outbox' }))],
      ['what GET api/dead does (page + count)', await median(() => Promise.all([ops.pageDead({ side: 'outbox', limit: PAGE, after: deep }), ops.countDead({ side: 'outbox' })]))],
      ['overview', await median(() => ops.overview())],
    ];
    for (const [what, ms] of results) console.log(`  ${what.padEnd(48)} ${ms.toFixed(1).padStart(8)} ms (median of ${RUNS})`);
  } finally {
    await store.close();
  }
}

await bench('PostgreSQL', openPostgresStore);
await bench('SQLite', openSqliteStore);
