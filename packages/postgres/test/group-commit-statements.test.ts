import { createInbox, createMessage, type Message } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

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

  it('32 concurrent receivers cost well under 1.2 statements per received message, each stored once', async () => {
    const { pool, counter } = countingPool(database.url);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    const storage = createPostgresStorage({ db });
    await storage.migrate();
    const inbox = createInbox({ store: storage.inbox, unknownTypes: 'accept', logger: silent, retention: false });
    const CLIENTS = 32;
    const PER_CLIENT = 25;
    const messages: Message[] = Array.from({ length: CLIENTS * PER_CLIENT }, (_, i) => createMessage({ type: 'bench.received', payload: { i }, source: `sender-${i % 3}` }, { now: new Date() }));
    const statuses: string[] = [];
    const before = counter.statements;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; i < PER_CLIENT; i++) {
          const m = messages[c * PER_CLIENT + i]!;
          statuses.push((await inbox.receive(m)).status);
          if (i % 5 === 4) statuses.push((await inbox.receive(m)).status);
        }
      }),
    );
    const received = statuses.length;
    const perMessage = (counter.statements - before) / received;
    console.log(`[postgres] group commit: ${received} receives by ${CLIENTS} concurrent callers, ${counter.statements - before} statements: ${perMessage.toFixed(3)} per received message`);
    expect(statuses.filter((s) => s === 'created')).toHaveLength(messages.length);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(received - messages.length);
    expect((await storage.inbox.stats()).received).toBe(messages.length);
    expect(perMessage).toBeLessThanOrEqual(1.2);

    const unbatched = createInbox({ store: storage.inbox, unknownTypes: 'accept', logger: silent, retention: false, groupCommit: false });
    const start = counter.statements;
    const more = Array.from({ length: CLIENTS }, (_, i) => createMessage({ type: 'bench.received', payload: { i }, source: 'one-by-one' }, { now: new Date() }));
    await Promise.all(more.map((m) => unbatched.receive(m)));
    const single = (counter.statements - start) / more.length;
    console.log(`[postgres] without group commit: ${single.toFixed(3)} statements per received message`);
    expect(single).toBe(3);
    await db.destroy();
  });
});
