import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { createSqliteStorage } from '@messagebox/sqlite';
import { runFanInScenario } from '@messagebox/testkit';
import { describe, expect, it } from 'vitest';
import { createTestStream, NATS_URL, probeNats } from './support/nats.js';

const reachable = await probeNats();
const MESSAGES = Number(process.env.MB_NATS_MULTI_MESSAGES ?? 10_000);
/** Short enough that the killed consumer's unacked messages come back soon; a slow store redelivered early is a duplicate the inbox drops. */
const ACK_WAIT_MS = 10_000;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe.runIf(reachable)('NATS: several processes', () => {
  it(`2 senders, 3 consumers sharing one durable consumer, one consumer killed mid-run: each of ${MESSAGES} messages stored and handled exactly once`, { timeout: 300_000 }, async () => {
    const stream = await createTestStream();
    const durable = 'ledger';
    const dir = mkdtempSync(join(tmpdir(), 'mbx-nats-multi-'));
    const file = join(dir, 'inbox.db');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file, { timeout: 10_000 }) }) });
    try {
      await createSqliteStorage({ db }).migrate();
      await runFanInScenario({
        messages: MESSAGES,
        senderScript: fixture('multi-sender.ts'),
        consumerScript: fixture('multi-consumer.ts'),
        env: {
          MB_NATS_URL: NATS_URL,
          MB_DATABASE_FILE: file,
          MB_STREAM: stream.name,
          MB_DURABLE: durable,
          MB_ACK_WAIT_MS: String(ACK_WAIT_MS),
          MB_SUBJECT_PREFIX: `${stream.prefix}.orders`,
        },
        // The first consumer creates the durable the others share.
        firstConsumerAlone: true,
        query: async (text) => (await sql.raw<Record<string, unknown>>(text).execute(db)).rows,
        drained: async () => {
          const info = await stream.jsm.consumers.info(stream.name, durable);
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
      });
      expect(await stream.count()).toBe(MESSAGES);
      // Every message was delivered at least once; the killed consumer's unacked messages (if it held any at
      // the kill, which depends on timing: on a loaded machine it may hold none) were delivered again to a survivor.
      const { delivered } = await stream.jsm.consumers.info(stream.name, durable);
      expect(delivered.consumer_seq).toBeGreaterThanOrEqual(MESSAGES);
    } finally {
      await db.destroy();
      await stream.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
