// The first end-to-end path over real SQLite files and real HTTP on loopback:
// outbox (SQLite) → HTTP transport → Hono inbox endpoint → inbox (SQLite) → handler.
import { serve, type ServerType } from '@hono/node-server';
import { createInbox, createOutbox, generateWebhookSecret, type Clock, type Inbox, type Outbox } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { createSqliteStorage } from '@messagebox/sqlite';
import { createHttpTransport } from '@messagebox/transport-http';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { Kysely, SqliteDialect, type Transaction } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

interface SenderDb {
  payment: { id: string; amount: number };
}
interface ReceiverDb {
  booking: { payment_id: string };
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const HOUR = 3_600_000;

let dir: string;
let cleanups: Array<() => Promise<void>>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'messagebox-e2e-'));
  cleanups = [];
});
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.now();
  return { now: () => now, advance: (ms) => void (now += ms) };
}

async function sqlite<DB>(name: string) {
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(join(dir, `${name}.sqlite`)) }) });
  cleanups.push(() => db.destroy());
  return db;
}

async function startReceiver(options: { handler?: (id: string, tx: Transaction<ReceiverDb>) => Promise<void>; secret: string; port?: number }) {
  const db = await sqlite<ReceiverDb>('receiver');
  await db.schema.createTable('booking').ifNotExists().addColumn('payment_id', 'text', (c) => c.primaryKey()).execute();
  const clock = manualClock();
  const storage = createSqliteStorage({ db, clock });
  await storage.migrate();
  const handled: string[] = [];
  const inbox = createInbox({
    store: storage.inbox,
    logger: silent,
    clock,
    random: () => 0.5,
    pollIntervalMs: HOUR,
    retry: { initialDelayMs: 1_000, factor: 2, jitter: 0, maxAttempts: 3 },
  }).on('payment.created', async (message, { tx }) => {
    handled.push(message.id);
    const payload = message.payload as { id: string };
    if (options.handler) await options.handler(payload.id, tx);
    await tx.insertInto('booking').values({ payment_id: payload.id }).execute();
  });
  const app = new Hono();
  app.all('/inbox', honoInbox(inbox, { secret: options.secret, logger: silent }));
  const server = await listen(app, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  cleanups.push(() => close(server));
  return { db, storage, inbox, handled, clock, url: `http://127.0.0.1:${port}/inbox`, port, server };
}

async function startSender(url: string, secret: string, clock?: Clock) {
  const db = await sqlite<SenderDb>('sender');
  await db.schema.createTable('payment').ifNotExists().addColumn('id', 'text', (c) => c.primaryKey()).addColumn('amount', 'integer').execute();
  const storage = createSqliteStorage({ db, ...(clock ? { clock } : {}) });
  await storage.migrate();
  const transport = createHttpTransport({ url, secret, timeoutMs: 2_000 });
  const outbox = createOutbox({
    store: storage.outbox,
    source: 'vault',
    logger: silent,
    pollIntervalMs: HOUR,
    random: () => 0.5,
    ...(clock ? { clock } : {}),
    retry: { initialDelayMs: 1_000, factor: 2, jitter: 0.2, maxDelayMs: 60_000, maxAttempts: 4 },
  }).configure('payment.created', { transport });
  cleanups.push(() => outbox.close());
  const pay = (id: string, fail?: string) =>
    outbox.transaction(async (tx) => {
      await tx.insertInto('payment').values({ id, amount: 100 }).execute();
      const message = await outbox.add(tx, { type: 'payment.created', payload: { id } });
      if (fail) throw new Error(fail);
      return message;
    });
  return { db, storage, outbox, transport, pay };
}

function listen(app: Hono, port: number): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(server));
  });
}

function close(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

async function settle(outbox: Outbox<unknown>, inbox: Inbox<unknown>) {
  await outbox.idle();
  await inbox.idle();
}

describe('end to end over SQLite files and HTTP', () => {
  it('delivers right after commit, with the worker poll interval at one hour', async () => {
    const secret = generateWebhookSecret();
    const receiver = await startReceiver({ secret });
    const sender = await startSender(receiver.url, secret);
    await sender.outbox.start();
    const message = await sender.pay('p1');
    await settle(sender.outbox, receiver.inbox);
    expect((await sender.storage.outbox.get(message.id))?.status).toBe('sent');
    expect(receiver.handled).toEqual([message.id]);
    expect(await receiver.db.selectFrom('booking').selectAll().execute()).toEqual([{ payment_id: 'p1' }]);
    expect(await receiver.storage.inbox.get(message)).toMatchObject({ status: 'processed', source: 'vault', payload: { id: 'p1' } });
  });

  it('sends nothing for a rolled-back transaction', async () => {
    const secret = generateWebhookSecret();
    const receiver = await startReceiver({ secret });
    const sender = await startSender(receiver.url, secret);
    await expect(sender.pay('p2', 'declined')).rejects.toThrow('declined');
    expect(await sender.outbox.resendUnsentMessages()).toMatchObject({ attempted: 0 });
    await settle(sender.outbox, receiver.inbox);
    expect(await sender.db.selectFrom('payment').selectAll().execute()).toEqual([]);
    expect(await sender.storage.outbox.stats()).toMatchObject({ pending: 0, sent: 0 });
    expect(await receiver.storage.inbox.stats()).toMatchObject({ received: 0, processed: 0 });
  });

  it('retries on the backoff schedule (injected clock), then delivers when the receiver is back', async () => {
    const secret = generateWebhookSecret();
    const receiver = await startReceiver({ secret });
    const port = receiver.port;
    await close(receiver.server);
    const clock = manualClock();
    const sender = await startSender(receiver.url, secret, clock);
    const delays: number[] = [];
    sender.outbox.events.on('failed', (e) => delays.push(e.delayMs));

    const message = await sender.pay('p3');
    await sender.outbox.idle();
    let row = await sender.storage.outbox.get(message.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row!.lastError).toMatch(/refused|ECONNREFUSED/i);
    expect(row!.availableAt.getTime() - clock.now()).toBe(1_000);

    clock.advance(999);
    expect(await sender.outbox.resendUnsentMessages()).toMatchObject({ attempted: 0 });
    clock.advance(1);
    expect(await sender.outbox.resendUnsentMessages()).toMatchObject({ attempted: 1, retried: 1 });
    row = await sender.storage.outbox.get(message.id);
    expect(row!.availableAt.getTime() - clock.now()).toBe(2_000);
    expect(delays).toEqual([1_000, 2_000]);

    const again = await startReceiver({ secret, port });
    clock.advance(2_000);
    expect(await sender.outbox.resendUnsentMessages()).toMatchObject({ attempted: 1, sent: 1 });
    await again.inbox.idle();
    expect(again.handled).toEqual([message.id]);
    expect(await sender.storage.outbox.get(message.id)).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('marks a message dead after its maximum attempts, keeping the last error', async () => {
    const secret = generateWebhookSecret();
    const receiver = await startReceiver({ secret });
    await close(receiver.server);
    const clock = manualClock();
    const sender = await startSender(receiver.url, secret, clock);
    const message = await sender.pay('p4');
    await sender.outbox.idle();
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      await sender.outbox.resendUnsentMessages();
    }
    const row = await sender.storage.outbox.get(message.id);
    expect(row).toMatchObject({ status: 'dead', attempts: 4 });
    expect(row!.lastError).toMatch(/gave up after 4 attempts/);
  });

  it('stores a duplicate delivery once and runs the handler once', async () => {
    const secret = generateWebhookSecret();
    const receiver = await startReceiver({ secret });
    const sender = await startSender(receiver.url, secret);
    const message = await sender.pay('p5');
    await settle(sender.outbox, receiver.inbox);
    await sender.transport.send(message, { attempt: 2 });
    await sender.transport.send(message, { attempt: 3 });
    await receiver.inbox.idle();
    expect(receiver.handled).toEqual([message.id]);
    expect(await receiver.storage.inbox.stats()).toMatchObject({ processed: 1, received: 0 });
    expect(await receiver.db.selectFrom('booking').selectAll().execute()).toHaveLength(1);
  });

  it('retries a failing handler; its writes commit only with the processed mark', async () => {
    const secret = generateWebhookSecret();
    let failures = 1;
    const receiver = await startReceiver({
      secret,
      handler: async (id, tx) => {
        await tx.insertInto('booking').values({ payment_id: `${id}-partial` }).execute();
        if (failures-- > 0) throw new Error('ledger locked');
      },
    });
    const sender = await startSender(receiver.url, secret);
    const message = await sender.pay('p6');
    await settle(sender.outbox, receiver.inbox);
    expect((await sender.storage.outbox.get(message.id))?.status).toBe('sent');
    expect(await receiver.storage.inbox.get(message)).toMatchObject({ status: 'received', attempts: 1, lastError: 'ledger locked' });
    expect(await receiver.db.selectFrom('booking').selectAll().execute()).toEqual([]);

    receiver.clock.advance(999);
    expect(await receiver.inbox.processDue()).toBe(0);
    receiver.clock.advance(1);
    expect(await receiver.inbox.processDue()).toBe(1);
    expect(await receiver.storage.inbox.get(message)).toMatchObject({ status: 'processed', attempts: 2 });
    expect((await receiver.db.selectFrom('booking').select('payment_id').orderBy('payment_id').execute()).map((r) => r.payment_id)).toEqual(['p6', 'p6-partial']);
    expect(receiver.handled).toEqual([message.id, message.id]);
  });

  it('dead-letters a handler that keeps throwing, with nothing of its writes committed', async () => {
    const secret = generateWebhookSecret();
    const receiver = await startReceiver({
      secret,
      handler: async (id, tx) => {
        await tx.insertInto('booking').values({ payment_id: `${id}-partial` }).execute();
        throw new Error('account frozen');
      },
    });
    const dead: string[] = [];
    receiver.inbox.events.on('dead', (e) => dead.push(e.error));
    const sender = await startSender(receiver.url, secret);
    const message = await sender.pay('p7');
    await settle(sender.outbox, receiver.inbox);
    for (let i = 0; i < 3; i++) {
      receiver.clock.advance(10_000);
      await receiver.inbox.processDue();
    }
    const row = await receiver.storage.inbox.get(message);
    expect(row).toMatchObject({ status: 'dead', attempts: 3 });
    expect(row!.lastError).toContain('account frozen');
    expect(dead).toHaveLength(1);
    expect(await receiver.db.selectFrom('booking').selectAll().execute()).toEqual([]);
  });
});
