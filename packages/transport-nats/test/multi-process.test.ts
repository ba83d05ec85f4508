import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { createSqliteStorage } from '@messagebox/sqlite';
import { describe, expect, it } from 'vitest';
import { createTestStream, NATS_URL, probeNats, waitFor } from './support/nats.js';

const reachable = await probeNats();
const MESSAGES = Number(process.env.MB_NATS_MULTI_MESSAGES ?? 10_000);
/** Short enough that the killed consumer's unacked messages come back soon; a slow store redelivered early is a duplicate the inbox drops. */
const ACK_WAIT_MS = 10_000;

function start(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--conditions=@messagebox/source', '--import', 'tsx', fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url))], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, MB_NATS_URL: NATS_URL, ...env },
  });
}

const said = (child: ChildProcess, text: string) => new Promise<void>((resolve) => child.on('message', (m) => m === text && resolve()));
const exited = (child: ChildProcess) => new Promise<unknown>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));

describe.runIf(reachable)('NATS: several processes', () => {
  it(`2 senders, 3 consumers sharing one durable consumer, one consumer killed mid-run: each of ${MESSAGES} messages stored and handled exactly once`, { timeout: 300_000 }, async () => {
    const stream = await createTestStream();
    const durable = 'ledger';
    const dir = mkdtempSync(join(tmpdir(), 'mbx-nats-multi-'));
    const file = join(dir, 'inbox.db');
    const db = new Kysely<{ handled: { source: string; id: string; worker: string } }>({ dialect: new SqliteDialect({ database: new Database(file, { timeout: 10_000 }) }) });
    const children: ChildProcess[] = [];
    try {
      const storage = createSqliteStorage({ db });
      await storage.migrate();
      await db.schema.createTable('handled').addColumn('source', 'text').addColumn('id', 'text').addColumn('worker', 'text').execute();

      const consumerEnv = { MB_DATABASE_FILE: file, MB_STREAM: stream.name, MB_DURABLE: durable, MB_ACK_WAIT_MS: String(ACK_WAIT_MS) };
      const first = start('multi-consumer.ts', { ...consumerEnv, MB_WORKER: 'c0' });
      children.push(first);
      await said(first, 'ready');
      const others = ['c1', 'c2'].map((worker) => start('multi-consumer.ts', { ...consumerEnv, MB_WORKER: worker }));
      children.push(...others);
      await Promise.all(others.map((c) => said(c, 'ready')));
      const consumers = [first, ...others];

      const senders = ['s0', 's1'].map((source) =>
        start('multi-sender.ts', { MB_STREAM: stream.name, MB_SUBJECT_PREFIX: `${stream.prefix}.orders`, MB_COUNT: String(MESSAGES / 2), MB_SOURCE: source }),
      );
      children.push(...senders);
      const sent = Promise.all(senders.map((s) => said(s, 'done')));

      const stored = async () => Number((await sql<{ n: number }>`select count(*) as n from messagebox_inbox`.execute(db)).rows[0]!.n);
      const handled = async () => Number((await sql<{ n: number }>`select count(*) as n from handled`.execute(db)).rows[0]!.n);
      await waitFor(async () => (await stored()) >= MESSAGES / 4, 'a quarter of the messages stored', 240_000);
      const victim = consumers[0]!;
      victim.kill('SIGKILL');
      expect(await exited(victim)).toBe('SIGKILL');

      await sent;
      expect(await stream.count()).toBe(MESSAGES);
      await waitFor(async () => (await stored()) === MESSAGES && (await handled()) >= MESSAGES, 'every message stored and handled', 240_000);
      await waitFor(async () => {
        const info = await stream.jsm.consumers.info(stream.name, durable);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      }, 'every message acked', 120_000);
      // The killed consumer's unacked messages were delivered again (to a survivor): more deliveries than messages.
      const { delivered } = await stream.jsm.consumers.info(stream.name, durable);
      expect(delivered.consumer_seq).toBeGreaterThan(MESSAGES);
      for (const c of consumers.slice(1)) {
        const gone = exited(c);
        c.send('stop');
        expect(await gone).toBe(0);
      }

      const { rows } = await sql<{ runs: number; distinct_ids: number }>`select count(*) as runs, count(distinct source || ':' || id) as distinct_ids from handled`.execute(db);
      expect(rows[0]).toEqual({ runs: MESSAGES, distinct_ids: MESSAGES });
      expect(await stored()).toBe(MESSAGES);
      const { rows: perSource } = await sql<{ source: string; n: number }>`select source, count(*) as n from messagebox_inbox group by source order by source`.execute(db);
      expect(perSource).toEqual([{ source: 's0', n: MESSAGES / 2 }, { source: 's1', n: MESSAGES / 2 }]);
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await db.destroy();
      await stream.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
