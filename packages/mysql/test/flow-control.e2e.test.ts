import { createAdaptorServer } from '@hono/node-server';
import { honoInbox } from '@messagebox/hono';
import { honoOverHttp, requireDatabase, runFlowControlSuite } from '@messagebox/testkit';
import { createHttpTransport } from '@messagebox/transport-http';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe } from 'vitest';
import { createMysqlStorage } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);

describe.runIf(reachable)('mysql → HTTP (hono) → mysql', () => {
  let database: TestDatabase;
  let tables = 0;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  runFlowControlSuite({
    name: 'mysql + hono',
    async createStorage() {
      const db = database.connect(10);
      const storage = createMysqlStorage({ db, tablePrefix: `fc${tables++}_` });
      await storage.migrate();
      return { outbox: storage.outbox, inbox: storage.inbox, close: () => db.destroy() };
    },
    ...honoOverHttp({ Hono, createAdaptorServer, honoInbox, createHttpTransport }),
  });
});
