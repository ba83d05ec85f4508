// Chaos on Postgres: two vault (sender) processes and a ledger (receiver)
// process are killed with SIGKILL again and again while payments are being
// produced, with a lease short enough for takeovers, and transactions held
// open longer than the lease. Every committed message must be handled exactly
// once and nothing may be left pending. Bounded by counts, never timed.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createConsoleLogger, createOutbox, generateWebhookSecret } from '@messagebox/core';
import { createPostgresStorage, type PostgresStorage } from '@messagebox/postgres';
import { createHttpTransport } from '@messagebox/transport-http';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { retry, type VaultDatabase } from './fixtures/chaos-env.js';

const TARGET = 2_000;
const LEASE_MS = 2_000;
const HELD_MS = LEASE_MS + 1_500;
/** Which process each SIGKILL hits, in order, and the committed count that triggers it. */
const KILLS: Array<{ who: 'sender-a' | 'sender-b' | 'receiver'; at: number }> = [
  { who: 'sender-a', at: 200 },
  { who: 'receiver', at: 450 },
  { who: 'sender-b', at: 700 },
  { who: 'receiver', at: 950 },
  { who: 'sender-a', at: 1_200 },
  { who: 'receiver', at: 1_450 },
];
/** Transactions the test itself holds open longer than the lease, started at these committed counts. */
const HELD_AT = [100, 800, 1_300];

const adminUrl = process.env.MESSAGEBOX_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = `mb_chaos_${randomBytes(4).toString('hex')}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
const fixture = (file: string) => fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Polls `condition` every 50 ms; fails after `boundMs` (generous: the machine is loaded). */
async function until(what: string, condition: () => Promise<boolean> | boolean, boundMs = 60_000) {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`[chaos] ${what}: not reached within ${boundMs} ms\n${outputs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Proc {
  child: ChildProcess;
  output: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  said: Set<string>;
}
const procs = new Map<string, Proc>();
const everyProc: Proc[] = [];
const duplicates: string[] = [];
const outputs = () => [...procs].map(([who, p]) => `--- ${who} (last output)\n${p.output.slice(-3_000)}`).join('\n');

function start(who: string, file: string, env: Record<string, string>): Proc {
  const child = fork(fixture(file), [], {
    env: { ...process.env, ...env, DATABASE_URL: databaseUrl, CHAOS_LEASE_MS: String(LEASE_MS), CHAOS_TARGET: String(TARGET), CHAOS_NAME: who.replace('-', '_') },
    execArgv: ['--conditions=@messagebox/source', '--import', 'tsx'],
    silent: true,
  });
  const proc: Proc = { child, output: '', said: new Set(), exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))) };
  const keep = (chunk: Buffer) => void (proc.output = (proc.output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('message', (m) => {
    if (typeof m !== 'string') return;
    if (m.startsWith('duplicate:')) duplicates.push(m.slice('duplicate:'.length));
    else proc.said.add(m);
  });
  procs.set(who, proc);
  everyProc.push(proc);
  return proc;
}

async function startReady(who: string, file: string, env: Record<string, string>): Promise<Proc> {
  const proc = start(who, file, env);
  let exit: { code: number | null } | undefined;
  void proc.exited.then((e) => (exit = e));
  await until(`${who} ready`, () => {
    if (exit) throw new Error(`[chaos] ${who} exited (${exit.code}) before it was ready\n${proc.output}`);
    return proc.said.has('ready');
  });
  return proc;
}

async function stopGracefully(proc: Proc) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.send('stop');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 30_000);
  await proc.exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

let vault: PostgresStorage<VaultDatabase>;
beforeAll(async () => {
  await admin(`CREATE DATABASE "${name}"`);
  vault = createPostgresStorage<VaultDatabase>({ connectionString: databaseUrl, poolConfig: { max: 4 }, schema: 'vault', onConnectionError: () => undefined });
  const ledger = createPostgresStorage({ connectionString: databaseUrl, poolConfig: { max: 1 }, schema: 'ledger' });
  await vault.migrate();
  await ledger.migrate();
  await sql`create table vault.payment (id text primary key, amount integer not null, held boolean not null)`.execute(vault.db);
  await sql`create table ledger.side_effect (message_id text not null, payment_id text not null)`.execute(vault.db); // no unique constraint, on purpose
  await ledger.destroy();
});
afterAll(async () => {
  for (const proc of everyProc) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await Promise.all(everyProc.map((p) => p.exited));
  await vault?.destroy();
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

it('sender and receiver processes killed with SIGKILL while producing: every committed message handled exactly once, nothing left pending', async () => {
  const began = performance.now();
  const secret = generateWebhookSecret();
  const port = await freePort();
  const inboxUrl = `http://127.0.0.1:${port}/inbox`;
  const startReceiver = () => startReady('receiver', 'chaos-receiver.ts', { PORT: String(port), INBOX_SECRET: secret });
  const startSender = (who: 'sender-a' | 'sender-b') => startReady(who, 'chaos-sender.ts', { INBOX_URL: inboxUrl, INBOX_SECRET: secret });
  await startReceiver();
  await Promise.all([startSender('sender-a'), startSender('sender-b')]);

  const committed = async () => (await sql<{ n: number }>`select count(*)::int as n from vault.payment`.execute(vault.db)).rows[0]!.n;

  // The test's own outbox (no worker): it holds transactions open past the lease, then sends after commit.
  const own = createOutbox({ store: vault.outbox, source: 'vault', leaseMs: LEASE_MS, retry, logger: createConsoleLogger({ level: 'error' }) })
    .configure('payment.created', { transport: createHttpTransport({ url: inboxUrl, secret, timeoutMs: LEASE_MS / 2 }) });
  const held = HELD_AT.map(async (at, n) => {
    await until(`${at} committed before held transaction ${n}`, async () => (await committed()) >= at);
    const payment = { id: `held_${n}`, amount: n, held: true };
    await own.transaction(async (tx) => {
      await tx.withSchema('vault').insertInto('payment').values(payment).execute();
      await own.add(tx, { type: 'payment.created', payload: payment });
      await new Promise((r) => setTimeout(r, HELD_MS)); // the scenario itself: the business transaction outlives the lease
    });
  });

  let killedWhileProducing = 0;
  for (const kill of KILLS) {
    await until(`${kill.at} committed`, async () => (await committed()) >= kill.at);
    const proc = procs.get(kill.who)!;
    if ((await committed()) < TARGET) killedWhileProducing++;
    proc.child.kill('SIGKILL');
    expect((await proc.exited).signal).toBe('SIGKILL');
    await (kill.who === 'receiver' ? startReceiver() : startSender(kill.who));
  }
  await Promise.all(held);
  await until('every payment committed', async () => (await committed()) >= TARGET);
  const producedAt = performance.now();

  const pending = async () => {
    const { rows } = await sql<{ outbox_open: number; outbox_dead: number; inbox_total: number; inbox_open: number; inbox_dead: number; outbox_total: number }>`
      select (select count(*)::int from vault.messagebox_outbox) as outbox_total,
             (select count(*)::int from vault.messagebox_outbox where status <> 'sent') as outbox_open,
             (select count(*)::int from vault.messagebox_outbox where status = 'dead') as outbox_dead,
             (select count(*)::int from ledger.messagebox_inbox) as inbox_total,
             (select count(*)::int from ledger.messagebox_inbox where status <> 'processed') as inbox_open,
             (select count(*)::int from ledger.messagebox_inbox where status = 'dead') as inbox_dead`.execute(vault.db);
    const r = rows[0]!;
    if (r.outbox_dead || r.inbox_dead) throw new Error(`[chaos] dead messages: ${JSON.stringify(r)}\n${outputs()}`);
    return r;
  };
  await until('the outbox and the inbox to drain', async () => {
    const r = await pending();
    return r.outbox_open === 0 && r.inbox_open === 0 && r.inbox_total === r.outbox_total;
  }, 90_000);
  const drainedAt = performance.now();

  await own.close();
  await Promise.all([...procs.values()].map(stopGracefully));

  const { rows: payments } = await sql<{ id: string; held: boolean }>`select id, held from vault.payment`.execute(vault.db);
  const { rows: outbox } = await sql<{ id: string; payment_id: string; status: string }>`select id, payload::json->>'id' as payment_id, status from vault.messagebox_outbox`.execute(vault.db);
  const { rows: inbox } = await sql<{ id: string; status: string }>`select id, status from ledger.messagebox_inbox`.execute(vault.db);
  const { rows: effects } = await sql<{ message_id: string; payment_id: string }>`select message_id, payment_id from ledger.side_effect`.execute(vault.db);
  const sorted = (xs: string[]) => [...xs].sort();

  expect(payments.length).toBeGreaterThanOrEqual(TARGET);
  expect(payments.filter((p) => p.held)).toHaveLength(HELD_AT.length);
  expect(sorted(outbox.map((m) => m.payment_id))).toEqual(sorted(payments.map((p) => p.id))); // one message per committed payment
  expect(outbox.every((m) => m.status === 'sent')).toBe(true);
  expect(inbox.every((m) => m.status === 'processed')).toBe(true);
  expect(sorted(inbox.map((m) => m.id))).toEqual(sorted(outbox.map((m) => m.id)));
  const times = new Map<string, number>();
  for (const e of effects) times.set(e.message_id, (times.get(e.message_id) ?? 0) + 1);
  const handledTwice = [...times].filter(([, n]) => n > 1).map(([id]) => id);
  expect(handledTwice).toEqual([]);
  expect(sorted(effects.map((e) => e.message_id))).toEqual(sorted(outbox.map((m) => m.id)));
  expect(sorted(effects.map((e) => e.payment_id))).toEqual(sorted(payments.map((p) => p.id)));
  const heldIds = new Set(outbox.filter((m) => m.payment_id.startsWith('held_')).map((m) => m.id));
  console.log(
    `[chaos] ${payments.length} committed, ${KILLS.length} SIGKILLs (${killedWhileProducing} while producing), ${HELD_AT.length} transactions held ${HELD_MS} ms past a ${LEASE_MS} ms lease; ` +
      `${duplicates.length} deliveries answered as duplicates (${duplicates.filter((id) => heldIds.has(id)).length} of held messages); each message handled once ` +
      `(produced in ${Math.round((producedAt - began) / 1000)} s, drained ${Math.round((drainedAt - producedAt) / 1000)} s later)`,
  );
}, 170_000);
