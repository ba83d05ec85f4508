import { requireDatabase, runStorageConformance } from '@messagebox/testkit';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

/** The same suite with the pool passed beside `db`: the hot statements then run as named prepared statements. */
describe.runIf(reachable)('postgres, named prepared statements', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: Kysely<unknown>;
  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 10 });
    pool.on('error', (error: Error & { code?: string }) => {
      if (error.code !== '57P01') throw error;
    });
    db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  runStorageConformance({
    name: 'postgres (named statements)',
    setup: async ({ id }) => {
      const storage = createPostgresStorage({ db, pool, tablePrefix: `${id}_`, listen: database.url });
      await storage.migrate();
      return { outbox: storage.outbox, inbox: storage.inbox };
    },
  });
});
