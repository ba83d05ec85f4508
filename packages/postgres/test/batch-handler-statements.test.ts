import { createInbox, createMessage, silentLogger, type InboxStore, type Message } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const MESSAGES = 500;

/** A pool whose clients record every statement they send (BEGIN and COMMIT included). */
function countingPool(url: string) {
  const log: string[] = [];
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      log.push(typeof first === 'string' ? first : String((first as { text?: string })?.text ?? ''));
      return query(...args);
    };
  });
  return { pool, log };
}

describe.runIf(reachable)('postgres: statements per handled message (counted on the pg clients)', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  async function setup(prefix: string) {
    const { pool, log } = countingPool(database.url);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    const storage = createPostgresStorage({ db, pool, tablePrefix: prefix, listen: false });
    await storage.migrate();
    await sql`create table ${sql.id(`${prefix}ledger`)} (id text primary key)`.execute(db);
    const messages: Message[] = Array.from({ length: MESSAGES }, (_, n) => createMessage({ type: 'payment.created', payload: { n }, source: 'bench' }, { now: new Date() }));
    await storage.inbox.transaction((tx) => storage.inbox.receiveMany!(tx, messages.map((message) => ({ message }))));
    let claims = 0;
    const store: InboxStore<Transaction<unknown>> = {
      ...storage.inbox,
      claimDue: async (options) => {
        const before = log.length;
        try {
          return await storage.inbox.claimDue(options);
        } finally {
          claims += log.length - before;
        }
      },
    };
    const start = log.length;
    const insert = (tx: Transaction<unknown>, ids: string[]) => sql`insert into ${sql.id(`${prefix}ledger`)} (id) values ${sql.join(ids.map((id) => sql`(${id})`))}`.execute(tx);
    return {
      db,
      storage,
      insert,
      inbox: createInbox({ store, batchSize: 100, concurrency: 4, pollIntervalMs: 3_600_000, retention: false, logger: silentLogger }),
      counted: () => ({ total: log.length - start, claims, statements: log.slice(start) }),
    };
  }

  it(`batch handlers: ${MESSAGES} messages in batches of 100 cost at most 0.2 statements per message plus the handler's own, claims included`, async () => {
    const { db, storage, inbox, insert, counted } = await setup('batch_');
    let handlerStatements = 0;
    inbox.onBatch('payment.created', async (messages, { tx }) => {
      await insert(tx, messages.map((m) => m.id));
      handlerStatements++;
    }, { maxMessages: 100 });
    expect(await inbox.processDue()).toBe(MESSAGES);
    const { total, claims, statements } = counted();
    const perMessage = (total - handlerStatements) / MESSAGES;
    console.log(`[postgres] batch handlers: ${total} statements for ${MESSAGES} messages (${handlerStatements} the handler's, ${claims} claims): ${perMessage.toFixed(3)} per message besides the handler's`);
    expect(statements.filter((s) => /^update/i.test(s) && /processed/.test(s))).toHaveLength(MESSAGES / 100);
    expect(perMessage).toBeLessThanOrEqual(0.2);
    expect(await storage.inbox.stats()).toMatchObject({ received: 0, processed: MESSAGES });
    await db.destroy();
  });

  it(`after commit: ${MESSAGES} receives at once into an inbox with a batch handler are handled in batches (receive and handle counted together)`, async () => {
    const { db, storage, inbox, insert, counted } = await setup('fresh_');
    const calls: number[] = [];
    inbox.onBatch('payment.created', async (messages, { tx }) => {
      await insert(tx, messages.map((m) => m.id));
      calls.push(messages.length);
    });
    const fresh = Array.from({ length: MESSAGES }, (_, n) => createMessage({ type: 'payment.created', payload: { n }, source: 'fresh' }, { now: new Date() }));
    const before = counted().total;
    expect((await Promise.all(fresh.map((m) => inbox.receive(m)))).every((r) => r.status === 'created')).toBe(true);
    await inbox.idle();
    const statements = counted().total - before - calls.length;
    console.log(`[postgres] after commit: ${MESSAGES} receives handled by ${calls.length} batch handler calls; ${(statements / MESSAGES).toFixed(3)} statements per message to receive and handle, besides the handler's`);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(MESSAGES);
    expect(calls.length).toBeLessThan(MESSAGES / 10);
    expect(statements / MESSAGES).toBeLessThanOrEqual(1.2 + 0.2);
    expect(await storage.inbox.stats()).toMatchObject({ processed: MESSAGES, received: MESSAGES }); // the backlog setup() stored stays for the worker
    await db.destroy();
  });

  it(`ordinary handlers: ${MESSAGES} messages cost at most 3 statements per message plus the handler's own (BEGIN, UPDATE processed, COMMIT), claims aside`, async () => {
    const { db, storage, inbox, insert, counted } = await setup('single_');
    let handlerStatements = 0;
    inbox.on('payment.created', async (message, { tx }) => {
      await insert(tx, [message.id]);
      handlerStatements++;
    });
    expect(await inbox.processDue()).toBe(MESSAGES);
    const { total, claims } = counted();
    const perMessage = (total - claims - handlerStatements) / MESSAGES;
    console.log(`[postgres] ordinary handlers: ${total} statements for ${MESSAGES} messages (${handlerStatements} the handler's, ${claims} claims): ${perMessage.toFixed(3)} per message besides the handler's and the claims`);
    expect(perMessage).toBeLessThanOrEqual(3);
    expect(await storage.inbox.stats()).toMatchObject({ received: 0, processed: MESSAGES });
    await db.destroy();
  });
});
