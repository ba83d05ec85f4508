import { createOutbox, silentLogger, type OutboxStore, type Transport } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

describe.runIf(reachable)('postgres: concurrent transactions and the after-commit queue', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('transactions committing at the same time hold their places: rows beyond the room in the queue are written unclaimed, none is given back, each message is sent once', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    pool.on('error', () => {});
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    const storage = createPostgresStorage({ db, pool, tablePrefix: 'places_' });
    await storage.migrate();
    let released = 0;
    let claimedAtAdd = 0;
    const store: OutboxStore<Transaction<unknown>> = {
      ...storage.outbox,
      release: async (claims) => ((released += claims.length), storage.outbox.release(claims)),
      add: async (tx, messages, options) => {
        if (options?.claim) claimedAtAdd += messages.length - (options.unclaimed?.size ?? 0);
        return storage.outbox.add(tx, messages, options);
      },
    };
    const sent = new Map<string, number>();
    const transport: Transport = {
      name: 'counting',
      send: async (message) => {
        await new Promise((resolve) => setTimeout(resolve, 5)); // a send that takes a while, so the queue fills
        sent.set(message.id, (sent.get(message.id) ?? 0) + 1);
      },
    };
    const outbox = createOutbox({ store, source: 'places', maxQueued: 20, concurrency: 4, pollIntervalMs: 50, retention: false, logger: silentLogger }).configure('t', { transport });
    await outbox.start();
    const total = 300;
    try {
      await Promise.all(Array.from({ length: total }, (_, n) => outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: { n } }))));
      const deadline = Date.now() + 60_000;
      while (sent.size < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await outbox.close();
      await db.destroy();
    }
    expect(sent.size).toBe(total);
    expect([...sent.values()].every((n) => n === 1)).toBe(true);
    expect(released, 'claims given back').toBe(0);
    expect(claimedAtAdd).toBeGreaterThan(0);
    expect(claimedAtAdd, 'some rows were left to the worker: the queue filled').toBeLessThan(total);
  });
});
