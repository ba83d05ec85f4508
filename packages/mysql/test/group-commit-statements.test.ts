import { expectGroupCommitUnderLoad, requireDatabase } from '@messagebox/testkit';
import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlStorage } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);

describe.runIf(reachable)('mysql: group commit of inbox receives', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('32 concurrent receivers cost at most 1.2 statements per received message (counted by Kysely), each stored once', async () => {
    const log: CompiledQuery[] = [];
    const db = database.connect(10, log);
    const storage = createMysqlStorage({ db });
    await storage.migrate();
    const load = await expectGroupCommitUnderLoad({ store: storage.inbox, statements: () => log.length });
    console.log(`[mysql] group commit: ${load.receives} receives by 32 callers: ${load.perMessage.toFixed(3)} statements per receive (without: ${load.perMessageUnbatched.toFixed(3)})`);
    expect(load.perMessage).toBeLessThanOrEqual(1.2);
    expect(load.perMessage).toBeLessThan(load.perMessageUnbatched);
    await db.destroy();
  });
});
