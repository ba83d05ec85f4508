// The sending service's bootstrap, shared by messagebox.config.ts (for the
// `messagebox` command run by cron) and by src/scheduler.ts (resending from
// code). A payment row and its message are written in one transaction.
import { createOutbox } from '@messagebox/core';
import { createSqliteStorage } from '@messagebox/sqlite';
import { createHttpTransport } from '@messagebox/transport-http';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';

export interface Payment {
  id: string;
  amount: number;
}

export interface VaultDatabase {
  payment: Payment;
}

export const DEMO_SECRET = 'whsec_ZGVtby1zZWNyZXQtZm9yLXRoZS1jcm9uLWV4YW1wbGU=';

export function openVault(env: NodeJS.ProcessEnv = process.env) {
  const db = new Kysely<VaultDatabase>({
    dialect: new SqliteDialect({
      database: async () => {
        const sqlite = new Database(env['VAULT_DB'] ?? 'vault.db');
        sqlite.pragma('journal_mode = WAL');
        sqlite.pragma('busy_timeout = 5000');
        return sqlite;
      },
    }),
  });
  const storage = createSqliteStorage({ db });
  const transport = createHttpTransport({ url: env['LEDGER_URL'] ?? 'http://127.0.0.1:3100/inbox', secret: env['LEDGER_SECRET'] ?? DEMO_SECRET, timeoutMs: 5_000 });
  const outbox = createOutbox({
    store: storage.outbox,
    source: 'vault',
    retry: { initialDelayMs: 0, maxAttempts: 20 },
  }).configure('payment.created', { transport });

  async function migrate() {
    const applied = await storage.migrate();
    await db.schema.createTable('payment').ifNotExists().addColumn('id', 'text', (c) => c.primaryKey()).addColumn('amount', 'integer', (c) => c.notNull()).execute();
    return applied;
  }

  /** The business operation: the payment and its message commit together. */
  function createPayment(payment: Payment) {
    return outbox.transaction(async (tx) => {
      await tx.insertInto('payment').values(payment).execute();
      return outbox.add(tx, { type: 'payment.created', payload: { ...payment } });
    });
  }

  return { db, storage, outbox, migrate, createPayment, close: () => db.destroy() };
}
