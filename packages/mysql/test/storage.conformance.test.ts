import { requireDatabase, runStorageConformance } from '@messagebox/testkit';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe } from 'vitest';
import { createMysqlStorage } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);

describe.runIf(reachable)('mysql', () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.connect();
  });
  afterAll(() => database?.drop());

  runStorageConformance({
    name: 'mysql',
    setup: async ({ id }) => {
      const storage = createMysqlStorage({ db, tablePrefix: `${id}_` });
      await storage.migrate();
      return { outbox: storage.outbox, inbox: storage.inbox };
    },
  });
});
