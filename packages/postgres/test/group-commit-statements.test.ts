import { expectGroupCommitUnderLoad, requireDatabase } from '@messagebox/testkit';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

/** A pool whose clients count every statement they send (BEGIN and COMMIT included). */
function countingPool(url: string) {
  const counter = { statements: 0 };
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      counter.statements++;
      return query(...args);
    };
  });
  return { pool, counter };
}

describe.runIf(reachable)('postgres: group commit of inbox receives', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('32 concurrent receivers cost at most 1.2 statements per received message (counted on the pg clients), each stored once', async () => {
    const { pool, counter } = countingPool(database.url);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    const storage = createPostgresStorage({ db, pool });
    await storage.migrate();
    const load = await expectGroupCommitUnderLoad({ store: storage.inbox, statements: () => counter.statements });
    console.log(`[postgres] group commit: ${load.receives} receives by 32 callers: ${load.perMessage.toFixed(3)} statements per receive (without: ${load.perMessageUnbatched.toFixed(3)})`);
    expect(load.perMessageUnbatched).toBe(3);
    expect(load.perMessage).toBeLessThanOrEqual(1.2);
    await db.destroy();
  });
});
