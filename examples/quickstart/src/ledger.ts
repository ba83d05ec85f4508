// The receiving service: a ledger. Its inbox endpoint (Hono) stores each
// message once; the handler books the payment in the same transaction that
// marks the message processed.
import { serve, type ServerType } from '@hono/node-server';
import { createInbox, type Logger } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { createSqliteStorage } from '@messagebox/sqlite';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { Kysely, SqliteDialect } from 'kysely';
import type { Payment } from './vault.js';

interface LedgerDatabase {
  ledger_entry: { payment_id: string; amount: number; currency: string };
}

export interface LedgerOptions {
  file: string;
  port: number;
  secret: string;
  logger?: Logger;
}

export async function createLedger(options: LedgerOptions) {
  const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database: new Database(options.file) }) });
  await db.schema
    .createTable('ledger_entry')
    .ifNotExists()
    .addColumn('payment_id', 'text', (c) => c.primaryKey())
    .addColumn('amount', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .execute();

  const storage = createSqliteStorage({ db });
  await storage.migrate();

  const inbox = createInbox({ store: storage.inbox, ...(options.logger ? { logger: options.logger } : {}) }).on('payment.created', async (message, { tx }) => {
    const payment = message.payload as unknown as Payment;
    await tx.insertInto('ledger_entry').values({ payment_id: payment.id, amount: payment.amount, currency: payment.currency }).execute();
  });

  const app = new Hono();
  app.all('/inbox', honoInbox(inbox, { secret: options.secret }));

  let server: ServerType | undefined;
  const url = `http://127.0.0.1:${options.port}/inbox`;

  return {
    db,
    storage,
    inbox,
    url,
    /** Starts listening; resolves once the port is open. */
    start: () =>
      new Promise<void>((resolve) => {
        server = serve({ fetch: app.fetch, port: options.port, hostname: '127.0.0.1' }, () => resolve());
      }),
    /** Stops listening and drops open connections, as a crash would. */
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        const closing = server;
        server = undefined;
        closing.close(() => resolve());
        (closing as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
    entries: () => db.selectFrom('ledger_entry').selectAll().execute(),
    async close() {
      await this.stop();
      await inbox.stop();
      await db.destroy();
    },
  };
}
