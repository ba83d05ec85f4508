import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCountingReceiver, startWorkerProcess, stopWorker } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-mp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = fileURLToPath(new URL('./fixtures/produce-and-send.ts', import.meta.url));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('sqlite: several processes on one file', () => {
  it('4 processes writing (read, then write, in each transaction) and claiming at once: no SQLITE_BUSY, every message sent exactly once', { timeout: 180_000 }, async () => {
    const file = join(dir, 'shared.db');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    const receiver = await startCountingReceiver();
    const processes = 4;
    const perProcess = 150;
    const errors: string[] = [];
    const produced = new Map<string, number>();
    const children: ChildProcess[] = [];
    try {
      // Half open the file with no busy timeout (the storage raises it), half with better-sqlite3's 5 s.
      for (let w = 0; w < processes; w++) {
        const child = await startWorkerProcess(script, { MB_WORKER_ID: `p${w}`, MB_DATABASE_FILE: file, MB_RECEIVER_URL: receiver.url, MB_MESSAGES: String(perProcess), MB_TIMEOUT: w % 2 ? '5000' : '0' });
        child.on('message', (msg: { produced?: number; error?: string }) => {
          if (msg.error) errors.push(`p${w} ${msg.error}`);
          if (msg.produced !== undefined) produced.set(`p${w}`, msg.produced);
        });
        child.on('exit', (code, signal) => {
          if (code !== 0) errors.push(`p${w} exited with ${code ?? signal}`);
        });
        children.push(child);
      }
      for (const child of children) child.send('go');
      await until(() => produced.size === processes || errors.length > 0, 'every process to produce its messages');
      const total = processes * perProcess;
      await until(async () => errors.length > 0 || (await storage.outbox.stats()).sent === total, 'every message to be sent');
      expect(errors).toEqual([]);
      expect(await storage.outbox.stats()).toMatchObject({ pending: 0, sent: total, dead: 0 });
      const rows = await storage.outbox.list({ limit: total + 1 });
      expect(rows).toHaveLength(total);
      expect(rows.filter((r) => receiver.deliveries.get(r.id)?.length !== 1).map((r) => r.id)).toEqual([]);
      expect(receiver.deliveries.size).toBe(total);
    } finally {
      await Promise.all(children.map(stopWorker));
      await receiver.close();
      await db.destroy();
    }
  });
});
