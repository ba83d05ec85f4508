// The quickstart demo: two services, each with its own SQLite file, talking
// over HTTP on loopback. Prints each step and exits 0 only if all behaved.
import { createConsoleLogger, generateWebhookSecret } from '@messagebox/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLedger } from './ledger.js';
import { createVault } from './vault.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-quickstart-'));
const secret = generateWebhookSecret();
const logger = createConsoleLogger({ level: 'error' });
const port = await freePort();
const ledger = await createLedger({ file: join(dir, 'ledger.sqlite'), port, secret, logger });
const vault = await createVault({ file: join(dir, 'vault.sqlite'), inboxUrl: ledger.url, secret, logger });

let failures = 0;
const step = (title: string) => console.log(`\n▶ ${title}`);
const say = (text: string) => console.log(`  ${text}`);
const check = (ok: boolean, text: string) => {
  console.log(`  ${ok ? '✔' : '✘'} ${text}`);
  if (!ok) failures++;
};

vault.outbox.events.on('sent', (e) => say(`vault: ${e.message.type} ${short(e.message.id)} delivered on attempt ${e.attempts}`));
vault.outbox.events.on('failed', (e) => say(`vault: attempt ${e.attempts} failed (${e.error}); retry in ${e.delayMs} ms`));
ledger.inbox.events.on('received', (e) => say(`ledger: stored ${e.message.type} ${short(e.message.id)} from ${e.message.source}`));
ledger.inbox.events.on('duplicate', (e) => say(`ledger: ${short(e.message.id)} already stored; acknowledged, nothing stored`));
ledger.inbox.events.on('handled', (e) => say(`ledger: handler booked ${short(e.message.id)}`));

try {
  await ledger.start();
  console.log(`messagebox quickstart — vault (sender) → ledger (receiver) at ${ledger.url}`);
  console.log(`SQLite files in ${dir}; requests signed with a fresh whsec_ secret`);

  step('1. A payment commits: its message is delivered right after commit and handled');
  const first = await vault.createPayment({ id: 'pay_1', amount: 4200, currency: 'EUR' });
  await vault.outbox.idle();
  await ledger.inbox.idle();
  check((await vault.storage.outbox.get(first.id))?.status === 'sent', 'the outbox row is marked sent');
  check((await ledger.entries()).some((e) => e.payment_id === 'pay_1'), 'the ledger booked pay_1');

  step('2. A payment rolls back: its message is never sent');
  let rolledBackId = '';
  try {
    await vault.outbox.transaction(async (tx) => {
      await tx.insertInto('payment').values({ id: 'pay_2', amount: 1, currency: 'EUR' }).execute();
      rolledBackId = (await vault.outbox.add(tx, { type: 'payment.created', payload: { id: 'pay_2', amount: 1, currency: 'EUR' } })).id;
      throw new Error('card declined');
    });
  } catch (error) {
    say(`vault: transaction rolled back (${(error as Error).message})`);
  }
  const resend = await vault.outbox.resendUnsentMessages();
  await ledger.inbox.idle();
  check((await vault.storage.outbox.get(rolledBackId)) === null, 'no outbox row exists for it');
  check(resend.attempted === 0, 'a resend pass finds nothing to send');
  check(!(await ledger.entries()).some((e) => e.payment_id === 'pay_2'), 'the ledger never saw pay_2');

  step('3. The receiver is down: the message is retried with backoff and delivered once it is back');
  await ledger.stop();
  say('ledger: stopped');
  await vault.outbox.start();
  const third = await vault.createPayment({ id: 'pay_3', amount: 990, currency: 'EUR' });
  await sleep(1_500);
  const waiting = await vault.storage.outbox.get(third.id);
  check(waiting?.status === 'pending' && waiting.attempts >= 2, `still pending after ${waiting?.attempts} failed attempts`);
  await ledger.start();
  say('ledger: back up');
  const delivered = await until(async () => (await vault.storage.outbox.get(third.id))?.status === 'sent', 15_000);
  await ledger.inbox.idle();
  check(delivered, 'delivered once the receiver was back');
  check((await ledger.entries()).some((e) => e.payment_id === 'pay_3'), 'the ledger booked pay_3');
  await vault.outbox.stop();

  step('4. The same message arrives twice (a retry after a lost acknowledgement): stored once');
  await vault.transport.send(first, { attempt: 2 });
  await ledger.inbox.idle();
  const entries = await ledger.entries();
  check(entries.filter((e) => e.payment_id === 'pay_1').length === 1, 'pay_1 is booked exactly once');
  check((await ledger.storage.inbox.stats()).processed === 2, 'the inbox holds two processed messages (pay_1, pay_3)');
} catch (error) {
  failures++;
  console.error('\n✘ the demo failed unexpectedly:', error);
} finally {
  await vault.close();
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(failures === 0 ? '\nAll steps behaved.' : `\n${failures} check(s) failed.`);
process.exit(failures === 0 ? 0 : 1);

function short(id: string) {
  return id.slice(-8);
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(50);
  }
  return condition();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
