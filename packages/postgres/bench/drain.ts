import { fileURLToPath } from 'node:url';
import { runDrainBenchmark } from '@messagebox/testkit';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase } from '../test/support/test-database.js';

const database = await createTestDatabase();
try {
  await runDrainBenchmark({
    name: 'postgres',
    resultsDir: fileURLToPath(new URL('../bench-results', import.meta.url)),
    workerScript: fileURLToPath(new URL('../test/fixtures/drain-worker.ts', import.meta.url)),
    open: async (key) => {
      const storage = createPostgresStorage({ db: database.connect(), tablePrefix: `${key}_` });
      await storage.migrate();
      return { outbox: storage.outbox, workerEnv: { MB_DATABASE_URL: database.url, MB_TABLE_PREFIX: `${key}_` } };
    },
  });
} finally {
  await database.drop();
}
