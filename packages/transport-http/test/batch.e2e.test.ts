import { createAdaptorServer } from '@hono/node-server';
import {
  BATCH_CONTENT_TYPE,
  createInbox,
  createOutbox,
  generateWebhookSecret,
  MessageboxError,
  silentLogger,
  type InboxReceiver,
  type Message,
} from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { createSqliteStorage } from '@messagebox/sqlite';
import { listenOnLoopback } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { Kysely, SqliteDialect } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../src/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sqliteStorage(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `messagebox-batch-${name}-`));
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(join(dir, `${name}.db`)) }) });
  const storage = createSqliteStorage({ db });
  await storage.migrate();
  cleanups.push(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  return storage;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 6_000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Postgres and MariaDB are not wired here: @messagebox/postgres and @messagebox/mysql depend on this
// package for their own tests, so depending on them back would make the workspace graph cyclic.
describe('outbox on SQLite → batched HTTP → Hono inbox on SQLite', () => {
  it('handles every message once; a partially rejecting receiver settles each message on its own', async () => {
    const secret = generateWebhookSecret();
    const receiverStorage = await sqliteStorage('inbox');
    const handled = new Map<string, number>();
    const inbox = createInbox({ store: receiverStorage.inbox, logger: silentLogger }).on('order.created', (message) => {
      handled.set(message.id, (handled.get(message.id) ?? 0) + 1);
    });
    // A receiver that refuses each "flaky" message once (retryable, as an inline handler failure is), before storing it.
    const refusedOnce = new Set<string>();
    const receiver: InboxReceiver = {
      accepts: (type) => inbox.accepts(type),
      receive: async (message: Message) => {
        if ((message.payload as { flaky?: boolean }).flaky && !refusedOnce.has(message.id)) {
          refusedOnce.add(message.id);
          throw new MessageboxError('handler_failed', 'not yet');
        }
        return inbox.receive(message);
      },
    };
    const contentTypes: string[] = [];
    const app = new Hono()
      .use('/inbox', async (c, next) => {
        contentTypes.push(c.req.header('content-type') ?? '');
        await next();
      })
      .all('/inbox', honoInbox(receiver, { secret, logger: silentLogger }));
    const server = await listenOnLoopback(createAdaptorServer({ fetch: app.fetch }) as Server);
    cleanups.push(async () => {
      await server.close();
      await inbox.stop();
    });

    const senderStorage = await sqliteStorage('outbox');
    const transport = createHttpTransport({ url: `${server.url}/inbox`, secret, maxConnections: 4 });
    const batch = { maxMessages: 50, maxBytes: 256 * 1024 };
    const outbox = createOutbox({
      store: senderStorage.outbox,
      source: 'shop',
      logger: silentLogger,
      pollIntervalMs: 50,
      retry: { initialDelayMs: 20, maxDelayMs: 50, jitter: 0 },
    })
      .configure('order.created', { transport, batch })
      .configure('order.unknown', { transport, batch });
    cleanups.push(() => outbox.close());

    const total = 600;
    const kindOf = (i: number) => (i % 60 === 7 ? 'unknown' : i % 40 === 3 ? 'flaky' : 'ok');
    const added: Message[] = [];
    for (let start = 0; start < total; start += 100) {
      const inputs = Array.from({ length: 100 }, (_, k) => {
        const i = start + k;
        const kind = kindOf(i);
        return { type: kind === 'unknown' ? 'order.unknown' : 'order.created', payload: { i, ...(kind === 'flaky' ? { flaky: true } : {}) } };
      });
      added.push(...(await outbox.transaction((tx) => outbox.addMany(tx, inputs))));
    }
    await outbox.start();
    const expectedSent = added.filter((m) => m.type === 'order.created').length;
    const expectedDead = total - expectedSent;
    await until(async () => {
      const stats = await senderStorage.outbox.stats();
      return stats.sent === expectedSent && stats.dead === expectedDead && stats.pending === 0;
    }, 'every message settled at the sender');
    await until(async () => (await receiverStorage.inbox.stats()).processed === expectedSent, 'every message handled');

    expect(handled.size).toBe(expectedSent);
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    for (const m of added) {
      const row = await senderStorage.outbox.get(m.id);
      const kind = kindOf((m.payload as { i: number }).i);
      if (kind === 'unknown') {
        expect(row).toMatchObject({ status: 'dead', attempts: 1 });
        expect(row!.lastError).toContain('unknown_type');
      } else if (kind === 'flaky') expect(row).toMatchObject({ status: 'sent', attempts: 2 });
      else expect(row).toMatchObject({ status: 'sent', attempts: 1 });
    }
    expect(refusedOnce.size).toBe(added.filter((m) => (m.payload as { flaky?: boolean }).flaky).length);
    expect(contentTypes.every((type) => type === BATCH_CONTENT_TYPE)).toBe(true);
    expect(contentTypes.length).toBeLessThan(total / 5);
    const inboxStats = await receiverStorage.inbox.stats();
    expect(inboxStats.received + inboxStats.processed + inboxStats.dead).toBe(expectedSent);
  }, 120_000);
});
