import { requireDatabase, runStorageConformance } from '@messagebox/testkit';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

describe.runIf(reachable)('postgres', () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.connect();
  });
  afterAll(() => database?.drop());

  runStorageConformance({
    name: 'postgres',
    setup: async ({ id }) => {
      const storage = createPostgresStorage({ db, pool: false, tablePrefix: `${id}_`, listen: database.url });
      await storage.migrate();
      return { outbox: storage.outbox, inbox: storage.inbox };
    },
  });
});
