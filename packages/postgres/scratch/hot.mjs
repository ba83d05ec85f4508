import pg from 'pg';
import { readFileSync } from 'node:fs';
import { createPostgresStorage } from '/work/main/packages/postgres/dist/index.js';
const N = Number(process.argv[2] ?? 50000);
const ff = Number(process.argv[3] ?? 100);
const name = `hot_${ff}_${process.pid}`;
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1/postgres' });
await admin.connect();
await admin.query(`create database ${name}`);
const url = `postgres://postgres@127.0.0.1/${name}`;
const storage = createPostgresStorage({ connectionString: url, poolConfig: { max: 2 } });
await storage.migrate();
const { sql } = await import('kysely');
await sql.raw(`alter table messagebox_outbox set (fillfactor = ${ff})`).execute(storage.db);
const store = storage.outbox;
for (let i = 0; i < N; i += 1000) {
  await store.transaction((tx) => store.add(tx, Array.from({ length: 1000 }, (_, j) => ({ id: `m${String(i + j).padStart(7, '0')}`, source: 's', type: 't', payload: '{"order":12345,"amount":"99.50","currency":"EUR"}', headers: {}, createdAt: new Date() }))));
}
if (process.argv[4] !== 'noanalyze') await sql`analyze messagebox_outbox`.execute(storage.db);
const pids = (await admin.query(`select pid from pg_stat_activity where datname = $1`, [name])).rows.map((r) => r.pid);
const cpu = (pid) => { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; } catch { return 0; } };
const cpu0 = pids.map(cpu);
const t0 = performance.now();
let claims = 0;
for (;;) {
  const rows = await store.claimDue({ limit: 100, token: 't' + claims++, leaseMs: 60000 });
  if (rows.length === 0) break;
  await store.markSent(rows.map((r) => ({ id: r.id, token: r.token })));
}
const ms = performance.now() - t0;
const pids2 = (await admin.query(`select pid from pg_stat_activity where datname = $1`, [name])).rows.map((r) => r.pid);
const backend = pids2.reduce((a, p) => a + cpu(p) - (cpu0[pids.indexOf(p)] ?? 0), 0);
const st = (await admin.query(`select 1`)).rows;
await storage.destroy();
const c2 = new pg.Client({ connectionString: url }); await c2.connect();
const s = (await c2.query(`select n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where relname='messagebox_outbox'`)).rows[0];
const size = (await c2.query(`select pg_relation_size('messagebox_outbox_due') as due, pg_relation_size('messagebox_outbox') as heap`)).rows[0];
await c2.end();
await admin.query(`drop database ${name} with (force)`); await admin.end();
console.log(JSON.stringify({ ff, N, ms: Math.round(ms), usPerMsg: Math.round(ms * 1000 / N), backendUsPerMsg: Math.round(backend * 1000 / N), ...s, ...size }));
