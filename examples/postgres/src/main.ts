// Starts the receiver ("ledger") and the sender ("vault") as two processes
// on one PostgreSQL database, and exits 0 once every payment was booked once.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { generateWebhookSecret } from '@messagebox/core';
import { assertDatabaseReachable, databaseUrl, redact } from './config.js';

const payments = Number(process.env.PAYMENTS ?? 5);
await assertDatabaseReachable();
console.log(`messagebox on PostgreSQL (${redact(databaseUrl)}): vault → ledger, ${payments} payments`);

const secret = generateWebhookSecret();
const port = await freePort();
const booked = new Set<string>();
const start = (file: string, env: Record<string, string>) =>
  fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    env: { ...process.env, ...env, DATABASE_URL: databaseUrl, INBOX_SECRET: secret },
    execArgv: ['--conditions=@messagebox/source', '--import', 'tsx'],
  });

const receiver = start('./receiver.ts', { PORT: String(port) });
const failed = (what: string) => (code: number | null) => {
  if (code) {
    console.error(`✘ the ${what} exited with code ${code}`);
    process.exit(1);
  }
};
receiver.on('exit', failed('receiver'));
receiver.on('message', (m: { handled?: string }) => m.handled && booked.add(m.handled));
await new Promise<void>((resolve) => receiver.on('message', (m: { ready?: boolean }) => m.ready && resolve()));

const sender = start('./sender.ts', { INBOX_URL: `http://127.0.0.1:${port}/inbox`, PAYMENTS: String(payments) });
const senderDone = new Promise<void>((resolve) => sender.on('exit', (code) => (code ? failed('sender')(code) : resolve())));

const deadline = Date.now() + 60_000;
while (booked.size < payments && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
await senderDone;
await stop(receiver);
if (booked.size !== payments) {
  console.error(`✘ the ledger booked ${booked.size} of ${payments} payments`);
  process.exit(1);
}
console.log(`✔ all ${payments} payments delivered across processes and booked once`);

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.send('stop');
  await exited;
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
