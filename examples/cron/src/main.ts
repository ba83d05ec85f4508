// A runnable tour: cron-style `messagebox resend` runs (as child processes,
// the way cron starts them) while the receiving ledger is down and then up,
// then the same job scheduled from code. Exits 0 when every step behaved.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { createInbox, createMemoryInboxStore, silentLogger } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { Hono } from 'hono';
import { startScheduler } from './scheduler.js';
import { DEMO_SECRET, openVault } from './vault.js';

const here = fileURLToPath(new URL('..', import.meta.url));
const bin = join(here, 'node_modules', '.bin', 'messagebox');
const dir = mkdtempSync(join(tmpdir(), 'messagebox-cron-'));
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = s.address() as { port: number };
    s.close(() => resolve(p));
  });
});
const env = { ...process.env, VAULT_DB: join(dir, 'vault.db'), LEDGER_URL: `http://127.0.0.1:${port}/inbox`, LEDGER_SECRET: DEMO_SECRET };
let failures = 0;

function step(title: string, ok: boolean, detail = '') {
  console.log(`${ok ? '✔' : '✘'} ${title}${detail ? `\n    ${detail.trim().split('\n').join('\n    ')}` : ''}`);
  if (!ok) failures++;
}

async function cron(...args: string[]) {
  console.log(`\n$ messagebox ${args.join(' ')}`);
  const child = spawn(bin, args, { cwd: here, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  process.stdout.write(stdout);
  return { status, stdout };
}

const ledgerInbox = createInbox({ store: createMemoryInboxStore(), logger: silentLogger, retention: false });
const booked: string[] = [];
ledgerInbox.on('payment.created', async (message) => void booked.push((message.payload as { id: string }).id));
let ledger: ServerType | undefined;
function startLedger() {
  const app = new Hono();
  app.all('/inbox', honoInbox(ledgerInbox, { secret: DEMO_SECRET, logger: silentLogger }));
  return new Promise<void>((resolve) => (ledger = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve())));
}
function stopLedger() {
  return new Promise<void>((resolve) => (ledger ? ledger.close(() => resolve()) : resolve()));
}
const until = async (check: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
  return check();
};

const vault = openVault({ ...process.env, ...env });
vault.outbox.events.on('failed', ({ error }) => console.log(`  (vault: delivery failed, will retry: ${error.slice(0, 60)}…)`));
try {
  const migrate = await cron('migrate');
  step('migrate creates the tables', migrate.status === 0);

  await vault.createPayment({ id: 'pay-1', amount: 100 });
  await vault.outbox.idle();
  step('a payment is written while the ledger is down; its first attempt fails', booked.length === 0);

  const down = await cron('resend');
  step('cron run with the ledger down: exits 0, the message waits for a later run', down.status === 0 && /to retry 1/.test(down.stdout));

  await startLedger();
  const up = await cron('resend');
  step('cron run with the ledger back: delivered', up.status === 0 && /sent 1/.test(up.stdout) && (await until(() => booked.includes('pay-1'))));

  const status = await cron('status');
  step('status shows nothing pending', status.status === 0 && /pending\s+0/.test(status.stdout));

  console.log('\nThe same, scheduled from code (src/scheduler.ts):');
  await stopLedger();
  await vault.createPayment({ id: 'pay-2', amount: 250 });
  await vault.outbox.idle();
  await startLedger();
  const stop = startScheduler(vault, { resendEveryMs: 200, log: (line) => console.log(`  scheduler: ${line}`) });
  step('the scheduler resends it once the ledger is back', await until(() => booked.includes('pay-2')));
  await stop();
} finally {
  await vault.outbox.close();
  await vault.close();
  await stopLedger();
  rmSync(dir, { recursive: true, force: true });
}

console.log(failures ? `\n${failures} step(s) misbehaved` : '\nall steps behaved');
process.exit(failures ? 1 : 0);
