import { createMessage, createOutbox, type Message, type Transport } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Answers after 1–5 ms, as receivers do at different moments. */
function receiver(): Transport & { sent: Set<string> } {
  const sent = new Set<string>();
  let n = 0;
  return {
    name: 'receiver',
    sent,
    async send(message: Message) {
      await new Promise((resolve) => setTimeout(resolve, 1 + (n++ % 5)));
      sent.add(message.id);
    },
  };
}

describe.runIf(reachable)('postgres: statements the sender runs per message', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('a worker drains a backlog with well under 0.1 statements per message (counted: claims and markSent)', { timeout: 120_000 }, async () => {
    const log: CompiledQuery[] = [];
    const storage = createPostgresStorage({ db: database.connect(10, log), pool: false, tablePrefix: 'count_', listen: false });
    await storage.migrate();
    const total = 5_000;
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, Array.from({ length: total }, (_, i) => createMessage({ type: 't', payload: i }, { source: 's', now: new Date() }))));
    const transport = receiver();
    // Each markSent round trip also lasts until 50 more sends finished (or all did), so what one statement
    // coalesces depends on the order of events, not on how fast a loaded machine runs the 20 ms window.
    const store: typeof storage.outbox = {
      ...storage.outbox,
      markSent: async (claims) => {
        const target = Math.min(total, transport.sent.size + 50);
        for (let i = 0; i < 2_000 && transport.sent.size < target; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        return storage.outbox.markSent(claims);
      },
    };
    const outbox = createOutbox({ store, source: 's', logger: silent, concurrency: 32, retention: false }).configure('t', { transport });
    log.length = 0;
    await outbox.start();
    for (let i = 0; i < 12_000 && transport.sent.size < total; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await outbox.stop();
    const statements = log.length;
    const observer = createPostgresStorage({ db: database.connect(1), pool: false, tablePrefix: 'count_', listen: false });
    expect(await observer.outbox.stats()).toMatchObject({ pending: 0, sent: total, dead: 0 });
    expect(transport.sent.size).toBe(total);
    expect(statements / total).toBeLessThan(0.1); // the bound; 0.11 before completions were batched across in-flight sends
  });
});
