import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMultiProcessOrderingCase } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-order-'));
const open: Kysely<unknown>[] = [];
afterAll(async () => {
  await Promise.all(open.map((db) => db.destroy()));
  rmSync(dir, { recursive: true, force: true });
});
const file = (tablePrefix: string) => join(dir, `${tablePrefix}shared.db`);

describe('sqlite: per-key order across processes on one file', () => {
  runMultiProcessOrderingCase({
    name: 'sqlite',
    workerScript: fileURLToPath(new URL('./fixtures/drain-worker.ts', import.meta.url)),
    setup: async (tablePrefix) => {
      const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file(tablePrefix), { timeout: 10_000 }) }) });
      open.push(db);
      const storage = createSqliteStorage({ db });
      await storage.migrate();
      return storage;
    },
    workerEnv: (tablePrefix) => ({ MB_DATABASE_FILE: file(tablePrefix) }),
  });
});
