// The sending service: a payments "vault". A payment row and its message are
// written in one SQLite transaction; the outbox delivers the message over HTTP.
import { createOutbox, type Logger } from '@messagebox/core';
import { createSqliteStorage } from '@messagebox/sqlite';
import { createHttpTransport } from '@messagebox/transport-http';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';

export interface Payment {
  id: string;
  amount: number;
  currency: string;
}

interface VaultDatabase {
  payment: Payment;
}

export interface VaultOptions {
  file: string;
  inboxUrl: string;
  secret: string;
  logger?: Logger;
}

export async function createVault(options: VaultOptions) {
  const db = new Kysely<VaultDatabase>({ dialect: new SqliteDialect({ database: new Database(options.file) }) });
  await db.schema
    .createTable('payment')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('amount', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .execute();

  const storage = createSqliteStorage({ db });
  await storage.migrate();

  const transport = createHttpTransport({ url: options.inboxUrl, secret: options.secret, timeoutMs: 2_000 });
  const outbox = createOutbox({
    store: storage.outbox,
    source: 'vault',
    pollIntervalMs: 100,
    retry: { initialDelayMs: 250, factor: 2, maxDelayMs: 2_000, maxAttempts: 10 },
    ...(options.logger ? { logger: options.logger } : {}),
  }).configure('payment.created', { transport });

  /** The business operation: record a payment and, in the same transaction, the message about it. */
  async function createPayment(payment: Payment, options: { failAfterWrite?: string } = {}) {
    return outbox.transaction(async (tx) => {
      await tx.insertInto('payment').values(payment).execute();
      const message = await outbox.add(tx, { type: 'payment.created', payload: { ...payment } });
      if (options.failAfterWrite) throw new Error(options.failAfterWrite);
      return message;
    });
  }

  async function close() {
    await outbox.close();
    await db.destroy();
  }

  return { db, storage, outbox, transport, createPayment, close };
}
