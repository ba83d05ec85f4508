import { createInbox, createMessage, type Logger } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

const pools: pg.Pool[] = [];
function poolOf(connectionString: string, max?: number) {
  const pool = new pg.Pool({ connectionString, ...(max === undefined ? {} : { max }) });
  pool.on('error', () => {});
  pools.push(pool);
  return { pool, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }) };
}
afterAll(async () => void (await Promise.all(pools.map((p) => p.end()))));

describe('createPostgresStorage: handler transactions fit the pool', () => {
  it('with its pool, the inbox runs at most the pool size less 2 transactions at once (at least 1); without one, no limit of its own', () => {
    const offline = 'postgres://127.0.0.1:1/none';
    const sized = (max?: number) => {
      const { pool, db } = poolOf(offline, max);
      return createPostgresStorage({ db, pool }).inbox.maxConcurrentTransactions;
    };
    expect(sized()).toBe(8); // pg's default pool of 10
    expect(sized(20)).toBe(18);
    expect(sized(3)).toBe(1);
    expect(sized(1)).toBe(1);
    expect(createPostgresStorage({ db: poolOf(offline).db, pool: false }).inbox.maxConcurrentTransactions).toBeUndefined();
    expect(createPostgresStorage({ connectionString: offline }).inbox.maxConcurrentTransactions).toBe(8);
  });
});

describe.runIf(reachable)('postgres: an inbox on a small pool', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('runs no more handlers at once than the pool leaves, handles every message, and says at start why its concurrency was cut', async () => {
    const { pool, db } = poolOf(database.url, 4);
    const storage = createPostgresStorage({ db, pool, tablePrefix: 'slots_' });
    await storage.migrate();
    const infos: string[] = [];
    const logger: Logger = { debug() {}, warn() {}, error() {}, info: (_fields, message) => void infos.push(message) };
    let running = 0;
    let most = 0;
    const handled = new Set<string>();
    const inbox = createInbox({ store: storage.inbox, logger, concurrency: 16, pollIntervalMs: 50 }).on('slot.test', async (message) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 20)); // a handler that takes a while, so handlers overlap when they can
      running--;
      handled.add(message.id);
    });
    const messages = Array.from({ length: 40 }, (_, n) => createMessage({ type: 'slot.test', payload: { n }, source: 'slots' }, { now: new Date() }));
    await storage.inbox.transaction((tx) => storage.inbox.receiveMany!(tx, messages.map((message) => ({ message }))));
    await inbox.start();
    try {
      const deadline = Date.now() + 30_000;
      while (handled.size < messages.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await inbox.stop();
      pools.splice(pools.indexOf(pool), 1);
      await pool.end();
    }
    expect(handled.size).toBe(messages.length);
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThanOrEqual(1);
    expect(infos.some((line) => line.includes('at most 2 handlers at once, not its concurrency 16'))).toBe(true);
  });
});
