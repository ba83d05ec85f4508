import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureStoreDrain, measureWorkerDrain, reportBenchmark } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createSqliteStorage } from '../src/index.js';

const messages = Number(process.env.BENCH_MESSAGES ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'messagebox-bench-'));
const open = async (file: string) => {
  const database = new Database(join(dir, file), { timeout: 10_000 });
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  const storage = createSqliteStorage({ db });
  await storage.migrate();
  return { db, storage };
};
try {
  const storeOnly = await open('store.db');
  const endToEnd = await open('e2e.db');
  reportBenchmark(fileURLToPath(new URL('../bench-results', import.meta.url)), 'sqlite', [
    await measureStoreDrain(storeOnly.storage.outbox, { messages }),
    await measureWorkerDrain({
      store: endToEnd.storage.outbox,
      workerScript: fileURLToPath(new URL('../test/fixtures/drain-worker.ts', import.meta.url)),
      env: { MB_DATABASE_FILE: join(dir, 'e2e.db') },
      workers: 4,
      messages,
    }),
  ]);
  await storeOnly.db.destroy();
  await endToEnd.db.destroy();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
