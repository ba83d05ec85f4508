// One command: declares this run's RabbitMQ exchange and queue (or NATS
// stream), starts two shipping consumer processes on one inbox and the order
// service, then checks that every order was handled exactly once. Exits 0
// when it was, 1 otherwise. `--broker=amqp` (default) or `--broker=nats`.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqliteStorage } from '@messagebox/sqlite';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { declareTopology, deleteTopology, topologyFor, type BrokerName } from './brokers.js';

const arg = process.argv.find((a) => a.startsWith('--broker='))?.slice('--broker='.length) ?? 'amqp';
if (arg !== 'amqp' && arg !== 'nats') {
  console.error(`✘ --broker must be amqp or nats, got "${arg}"`);
  process.exit(2);
}
const broker: BrokerName = arg;
const orders = Number(process.env.ORDERS ?? 50);
if (!Number.isInteger(orders) || orders < 1) {
  console.error(`✘ ORDERS must be a positive integer, got "${process.env.ORDERS}"`);
  process.exit(2);
}
const label = broker === 'amqp' ? 'RabbitMQ' : 'NATS JetStream';
const topology = topologyFor(broker, randomBytes(4).toString('hex'));
const dir = mkdtempSync(join(tmpdir(), 'messagebox-brokers-'));
const files = { orders: join(dir, 'orders.db'), shipping: join(dir, 'shipping.db') };
const children: ChildProcess[] = [];
let ok = false;

// The shipping service's database: the inbox and the shipments table, migrated once before its two processes start.
const shipping = new Kysely<{ shipments: { order_id: string; worker: string } }>({ dialect: new SqliteDialect({ database: new Database(files.shipping, { timeout: 10_000 }) }) });
try {
  await createSqliteStorage({ db: shipping }).migrate();
  await shipping.schema.createTable('shipments').addColumn('order_id', 'text', (c) => c.notNull()).addColumn('worker', 'text', (c) => c.notNull()).execute();
  await declareTopology(topology);
  console.log(`messagebox over ${label}: order service → outbox → ${topology.destination} → 2 shipping consumers → one inbox, ${orders} orders`);

  const env = { TOPOLOGY: JSON.stringify(topology), ORDERS: String(orders), ORDERS_DB: files.orders, SHIPPING_DB: files.shipping };
  // One after the other, each ready before the order service starts.
  const consumers: ChildProcess[] = [];
  for (const worker of ['consumer 1', 'consumer 2']) {
    const consumer = start('shipping-consumer', { ...env, WORKER: worker });
    await said(consumer, 'ready');
    consumers.push(consumer);
  }
  const service = start('order-service', env);
  const serviceCode = await exitCode(service);
  if (serviceCode !== 0) throw new Error(`the order service exited with code ${serviceCode}`);
  console.log(`  the order service committed ${orders} orders; the broker confirmed every message`);

  const count = async () => Number((await sql<{ n: number }>`select count(*) as n from shipments`.execute(shipping)).rows[0]!.n);
  const deadline = Date.now() + 60_000;
  while ((await count()) < orders && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const c of consumers) {
    const code = exitCode(c);
    c.kill('SIGTERM');
    if ((await code) !== 0) throw new Error('a shipping consumer did not stop cleanly');
  }

  const rows = await shipping.selectFrom('shipments').select(['order_id', 'worker']).execute();
  const byOrder = new Map<string, number>();
  for (const r of rows) byOrder.set(r.order_id, (byOrder.get(r.order_id) ?? 0) + 1);
  const expected = Array.from({ length: orders }, (_, i) => `order-${String(i + 1).padStart(4, '0')}`);
  const missing = expected.filter((id) => !byOrder.has(id));
  const twice = [...byOrder].filter(([, n]) => n > 1).map(([id]) => id);
  const perWorker = ['consumer 1', 'consumer 2'].map((w) => `${w}: ${rows.filter((r) => r.worker === w).length}`).join(', ');
  if (missing.length || twice.length || rows.length !== orders) {
    console.error(`✘ ${rows.length} shipments for ${orders} orders; never handled: ${missing.join(', ') || 'none'}; handled twice: ${twice.join(', ') || 'none'}`);
  } else {
    console.log(`✔ ${label}: every one of the ${orders} orders was handled exactly once (${perWorker})`);
    ok = true;
  }
} catch (error) {
  console.error(`✘ ${error instanceof Error ? error.message : String(error)}`);
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await shipping.destroy();
  await deleteTopology(topology).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

function start(script: string, env: Record<string, string>): ChildProcess {
  const child = fork(fileURLToPath(new URL(`./${script}.ts`, import.meta.url)), [], {
    env: { ...process.env, ...env },
    execArgv: ['--conditions=@messagebox/source', '--import', 'tsx'],
  });
  children.push(child);
  return child;
}

function said(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.on('message', (m) => m === text && resolve());
    child.once('exit', (code) => reject(new Error(`a child exited (code ${code}) before it was ready`)));
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
