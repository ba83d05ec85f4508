import { createMessage, createOutbox, type Message, type Transport } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe.runIf(reachable)('postgres: outbox start() when LISTEN cannot connect', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('rejects with nothing started; once the listener can connect, start() subscribes and NOTIFY wakes the worker', { timeout: 60_000 }, async () => {
    const url = new URL(database.url);
    const listen = { host: url.hostname, port: 1, user: 'postgres', database: database.name, connectionTimeoutMillis: 3_000 }; // nothing listens on port 1
    const storage = createPostgresStorage({ db: database.connect(4), pool: false, tablePrefix: 'listen_', listen });
    await storage.migrate();
    const sent: Message[] = [];
    const transport: Transport = { name: 'recording', send: async (m) => void sent.push(m) };
    const outbox = createOutbox({ store: storage.outbox, source: 's', logger: silent, pollIntervalMs: 3_600_000, retention: false }).configure('t', { transport });

    await expect(outbox.start()).rejects.toThrow();
    listen.port = Number(url.port || 5432); // the database is reachable again
    await outbox.start();
    const m = createMessage({ type: 't', payload: 1 }, { source: 's', now: new Date() });
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m])); // not after-commit: only the NOTIFY can wake the worker
    for (let i = 0; i < 2_000 && sent.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent.map((x) => x.id)).toEqual([m.id]);
    expect(await outbox.stop()).toBe(true);
  });
});
