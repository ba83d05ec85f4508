import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDrainBenchmark } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-bench-'));
try {
  await runDrainBenchmark({
    name: 'sqlite',
    resultsDir: fileURLToPath(new URL('../bench-results', import.meta.url)),
    workerScript: fileURLToPath(new URL('../test/fixtures/drain-worker.ts', import.meta.url)),
    open: async (key) => {
      const file = join(dir, `${key}.db`);
      const database = new Database(file, { timeout: 10_000 });
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = NORMAL');
      const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
      const storage = createSqliteStorage({ db });
      await storage.migrate();
      return { outbox: storage.outbox, workerEnv: { MB_DATABASE_FILE: file }, close: () => db.destroy() };
    },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
