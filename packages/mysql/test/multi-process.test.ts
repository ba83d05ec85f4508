import { fileURLToPath } from 'node:url';
import { requireDatabase, runMultiProcessDrainCases } from '@messagebox/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { createMysqlStorage } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);

describe.runIf(reachable)('mysql: several worker processes', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  runMultiProcessDrainCases({
    name: 'mysql',
    workerScript: fileURLToPath(new URL('./fixtures/drain-worker.ts', import.meta.url)),
    setup: async (tablePrefix) => {
      const storage = createMysqlStorage({ db: database.connect(), tablePrefix });
      await storage.migrate();
      return storage;
    },
    workerEnv: (tablePrefix) => ({ MB_DATABASE_URL: database.url, MB_TABLE_PREFIX: tablePrefix }),
  });
});
