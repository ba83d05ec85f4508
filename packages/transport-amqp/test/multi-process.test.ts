import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { createSqliteStorage } from '@messagebox/sqlite';
import { runFanInScenario } from '@messagebox/testkit';
import { describe, it } from 'vitest';
import { AMQP_URL, openAdmin, requireBroker, uniqueName } from './support/broker.js';

const reachable = await requireBroker();
const MESSAGES = Number(process.env['MB_AMQP_MULTI_MESSAGES'] ?? 10_000);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe.runIf(reachable)('AMQP: several processes', () => {
  it(`2 senders, 3 consumers sharing one queue, one consumer killed mid-run: each of ${MESSAGES} messages stored and handled exactly once`, { timeout: 300_000 }, async () => {
    const admin = await openAdmin();
    const dir = mkdtempSync(join(tmpdir(), 'mbx-amqp-multi-'));
    const file = join(dir, 'inbox.db');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file, { timeout: 10_000 }) }) });
    try {
      await createSqliteStorage({ db }).migrate();
      const exchange = await admin.exchange(uniqueName('multi'));
      const queue = await admin.queue(uniqueName('multi-q'), { exchange });
      await runFanInScenario({
        messages: MESSAGES,
        senderScript: fixture('multi-sender.ts'),
        consumerScript: fixture('multi-consumer.ts'),
        env: { MB_AMQP_URL: AMQP_URL, MB_DB_FILE: file, MB_QUEUE: queue, MB_EXCHANGE: exchange },
        query: async (text) => (await sql.raw<Record<string, unknown>>(text).execute(db)).rows,
        drained: async () => (await admin.depth(queue)) === 0,
      });
    } finally {
      await db.destroy();
      await admin.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
