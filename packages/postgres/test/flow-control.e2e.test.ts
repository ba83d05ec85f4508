import { createAdaptorServer } from '@hono/node-server';
import { honoInbox } from '@messagebox/hono';
import { honoOverHttp, requireDatabase, runFlowControlSuite } from '@messagebox/testkit';
import { createHttpTransport } from '@messagebox/transport-http';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

describe.runIf(reachable)('postgres → HTTP (hono) → postgres', () => {
  let database: TestDatabase;
  let tables = 0;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  runFlowControlSuite({
    name: 'postgres + hono',
    async createStorage() {
      const db = database.connect(10);
      const storage = createPostgresStorage({ db, pool: false, tablePrefix: `fc${tables++}_`, listen: false });
      await storage.migrate();
      return { outbox: storage.outbox, inbox: storage.inbox, close: () => db.destroy() };
    },
    ...honoOverHttp({ Hono, createAdaptorServer, honoInbox, createHttpTransport }),
  });
});
