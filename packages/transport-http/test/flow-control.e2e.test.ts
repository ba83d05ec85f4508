import { createAdaptorServer } from '@hono/node-server';
import { honoInbox } from '@messagebox/hono';
import { createSqliteStorage } from '@messagebox/sqlite';
import { honoOverHttp, runFlowControlSuite } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { Kysely, SqliteDialect } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpTransport } from '../src/index.js';

// SQLite files on both sides (one file per store), a Hono endpoint, this package's transport.
runFlowControlSuite({
  name: 'sqlite files + hono + transport-http',
  async createStorage() {
    const dir = mkdtempSync(join(tmpdir(), 'messagebox-flow-'));
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(join(dir, 'store.db')) }) });
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    return {
      outbox: storage.outbox,
      inbox: storage.inbox,
      close: async () => {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  ...honoOverHttp({ Hono, createAdaptorServer, honoInbox, createHttpTransport }),
});
