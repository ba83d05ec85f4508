import { fileURLToPath } from 'node:url';
import { measureStoreDrain, measureWorkerDrain, reportBenchmark } from '@messagebox/testkit';
import { createMysqlStorage } from '../src/index.js';
import { createTestDatabase } from '../test/support/test-database.js';

const messages = Number(process.env.BENCH_MESSAGES ?? 10_000);
const database = await createTestDatabase();
try {
  const storeOnly = createMysqlStorage({ db: database.kysely(), tablePrefix: 'store_' });
  await storeOnly.migrate();
  const endToEnd = createMysqlStorage({ db: database.kysely(), tablePrefix: 'e2e_' });
  await endToEnd.migrate();
  reportBenchmark(fileURLToPath(new URL('../bench-results', import.meta.url)), 'mysql', [
    await measureStoreDrain(storeOnly.outbox, { messages }),
    await measureWorkerDrain({
      store: endToEnd.outbox,
      workerScript: fileURLToPath(new URL('../test/fixtures/drain-worker.ts', import.meta.url)),
      env: { MB_DATABASE_URL: database.url, MB_TABLE_PREFIX: 'e2e_' },
      workers: 4,
      messages,
    }),
  ]);
} finally {
  await database.drop();
}
