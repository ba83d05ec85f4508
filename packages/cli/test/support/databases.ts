import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInbox, createOutbox, silentLogger, type Transport } from '@messagebox/core';
import type { MessageboxStorage } from '@messagebox/kysely';
import { createPostgresStorage } from '@messagebox/postgres';
import { createSqliteStorage } from '@messagebox/sqlite';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTx = Transaction<any>;

/** A database for one test file, the env the CLI fixture needs to reach it, and the test's own view of it. */
export interface TestDatabase {
  dialect: 'sqlite' | 'postgres';
  env: Record<string, string>;
  db: AnyDb;
  storage: MessageboxStorage<AnyTx>;
  /** Writes messages into the outbox as the application would (nothing is sent from the test process). */
  addToOutbox(messages: Array<{ type: string; payload: object; headers?: Record<string, string> }>): Promise<string[]>;
  /** Stores messages in the inbox as the HTTP endpoint would. */
  receiveInInbox(messages: Array<{ id: string; type: string; payload: object; source?: string }>): Promise<void>;
  destroy(): Promise<void>;
}

const PG_ADMIN_URL = process.env['MESSAGEBOX_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function wrap(dialect: TestDatabase['dialect'], env: Record<string, string>, db: AnyDb, storage: MessageboxStorage<AnyTx>, cleanup: () => Promise<void>): TestDatabase {
  const noSend: Transport = { name: 'none', send: async () => {} };
  const outbox = createOutbox({ store: storage.outbox, source: 'cli-test', sendAfterCommit: false, retention: false, logger: silentLogger });
  for (const type of ['order.created', 'order.unknown', 'order.slow']) outbox.configure(type, { transport: noSend });
  const inbox = createInbox({ store: storage.inbox, unknownTypes: 'accept', retention: false, logger: silentLogger });
  return {
    dialect,
    env,
    db,
    storage,
    async addToOutbox(messages) {
      const added = await outbox.transaction((tx) => outbox.addMany(tx, messages.map((m) => ({ ...m, payload: m.payload as never }))));
      return added.map((m) => m.id);
    },
    async receiveInInbox(messages) {
      for (const m of messages) await inbox.receive({ ...m, source: m.source ?? 'shop', headers: {}, createdAt: new Date(), payload: m.payload as never });
    },
    async destroy() {
      await db.destroy();
      await cleanup();
    },
  };
}

export async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'messagebox-cli-'));
  const file = join(dir, 'app.db');
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  const db: AnyDb = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
  return wrap('sqlite', { MB_DIALECT: 'sqlite', MB_SQLITE_FILE: file }, db, createSqliteStorage({ db }), async () => rmSync(dir, { recursive: true, force: true }));
}

/**
 * A fresh Postgres database for this run (dropped by `destroy`), or
 * undefined when the server cannot be reached outside CI. Under `CI=true` an
 * unreachable server is an error.
 */
export async function createPostgresDatabase(): Promise<TestDatabase | undefined> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (error) {
    if (process.env['CI'] === 'true') throw new Error(`Postgres at ${PG_ADMIN_URL} is unreachable, and CI=true makes that a failure: ${String(error)}`);
    return undefined;
  }
  const name = `mb_cli_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.href, max: 4 });
  const db: AnyDb = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return wrap('postgres', { MB_DIALECT: 'postgres', MB_DATABASE_URL: url.href }, db, createPostgresStorage({ db, pool }), async () => {
    const drop = new pg.Client({ connectionString: PG_ADMIN_URL });
    await drop.connect();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await drop.query(`drop database if exists ${name}${attempt >= 50 ? ' with (force)' : ''}`);
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      await drop.end();
    }
  });
}
