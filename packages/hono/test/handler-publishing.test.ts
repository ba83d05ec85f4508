import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { createInbox, createOutbox, generateWebhookSecret, silentLogger, type Message, type OutboxRecord, type Transport } from '@messagebox/core';
import { createSqliteStorage } from '@messagebox/sqlite';
import { listenOnLoopback, signWithReference, type RunningServer } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { honoInbox } from '../src/index.js';

// "Receive, write, publish" over real HTTP: a signed POST reaches the Hono endpoint, the handler writes a
// business row and publishes with its transaction, and the published message is sent right after that commits.
interface DB {
  ledger: { payment_id: string };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function service(mode: 'after-commit' | 'inline') {
  const dir = mkdtempSync(join(tmpdir(), 'messagebox-publish-'));
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(join(dir, 'ledger.db')) }) });
  const storage = createSqliteStorage({ db });
  await storage.migrate();
  await db.schema.createTable('ledger').addColumn('payment_id', 'text', (c) => c.notNull()).execute();
  const seen: Array<{ message: Message; ledgerRows: number; row: OutboxRecord | null }> = [];
  const transport: Transport = {
    name: 'recording',
    send: async (message) => {
      const { rows } = await sql<{ n: number }>`select count(*) as n from ledger`.execute(db);
      seen.push({ message, ledgerRows: Number(rows[0]!.n), row: await storage.outbox.get(message.id) });
    },
  };
  const outbox = createOutbox({ store: storage.outbox, source: 'ledger', logger: silentLogger, retention: false }).configure('ledger.booked', { transport });
  const inbox = createInbox({ store: storage.inbox, outbox, mode, logger: silentLogger, retention: false, retry: { initialDelayMs: 60_000 } }).on<{ id: string; fail?: boolean }>('payment.created', async (message, { tx }) => {
    await tx.insertInto('ledger').values({ payment_id: message.payload.id }).execute();
    await outbox.add(tx, { type: 'ledger.booked', payload: { paymentId: message.payload.id } });
    if (message.payload.fail) throw new Error('the ledger refused it');
  });
  const secret = generateWebhookSecret();
  const app = new Hono().all('/inbox', honoInbox(inbox, { secret, logger: silentLogger }));
  const server: RunningServer = await listenOnLoopback(createAdaptorServer({ fetch: app.fetch }) as Server);
  cleanups.push(async () => {
    await server.close();
    await inbox.stop();
    await outbox.stop();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  let n = 0;
  const post = async (payload: { id: string; fail?: boolean }) => {
    const id = `pay_${Date.now().toString(36)}_${n++}`;
    const signed = signWithReference({ secret, id, body: JSON.stringify({ type: 'payment.created', source: 'vault', timestamp: new Date().toISOString(), data: payload }) });
    const response = await fetch(`${server.url}/inbox`, { method: 'POST', headers: signed.headers, body: signed.body });
    return { id, status: response.status };
  };
  return { storage, inbox, outbox, seen, post };
}

describe.each(['after-commit', 'inline'] as const)('hono endpoint, %s mode: handlers that publish', (mode) => {
  it('sends the published message right after the handler commits (its business row visible then), and nothing when the handler fails', async () => {
    const { storage, inbox, outbox, seen, post } = await service(mode);
    const ok = await post({ id: 'p1' });
    expect(ok.status).toBe(200);
    await inbox.idle();
    await outbox.idle();
    expect(seen.map((s) => s.message.payload)).toEqual([{ paymentId: 'p1' }]);
    expect(seen[0]).toMatchObject({ ledgerRows: 1, row: { status: 'pending', attempts: 1 } });
    expect(await storage.inbox.get({ source: 'vault', id: ok.id })).toMatchObject({ status: 'processed' });

    const failed = await post({ id: 'p2', fail: true });
    expect(failed.status).toBe(mode === 'inline' ? 500 : 200);
    await inbox.idle();
    await outbox.idle();
    expect(seen).toHaveLength(1);
    expect((await storage.outbox.list({})).map((r) => r.payload)).toEqual([{ paymentId: 'p1' }]);
    expect((await outbox.resendUnsentMessages()).attempted).toBe(0);
  });
});
