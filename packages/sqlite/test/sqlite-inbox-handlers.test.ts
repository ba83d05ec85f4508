import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInbox, createMessage, silentLogger } from '@messagebox/core';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-inbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('sqlite inbox handlers', () => {
  it('with slow handlers and concurrency 4, a receive waits behind at most two handlers (the running one and one that took the connection while receives gathered for a group commit), not the whole queue', async () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(join(dir, 'handlers.db')) }) });
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    const message = (n: number) => createMessage({ type: 'slow.job', payload: { n }, source: 'test' }, { now: new Date() });
    const backlog = [1, 2, 3, 4].map(message);
    for (const m of backlog) await storage.inbox.transaction((tx) => storage.inbox.receive(tx, m));

    const started: string[] = [];
    const ended: string[] = [];
    const gates = new Map<string, () => void>();
    const inbox = createInbox({ store: storage.inbox, concurrency: 4, batchSize: 10, pollIntervalMs: 50, retention: false, logger: silentLogger }).on(
      'slow.job',
      async (m, { tx }) => {
        started.push(m.id);
        await new Promise<void>((resolve) => gates.set(m.id, resolve));
        await sql`select id from messagebox_inbox where id = ${m.id}`.execute(tx);
        ended.push(m.id);
      },
    );
    await inbox.start();
    try {
      await until(() => started.length > 0, 'the first handler to start');
      let whenReceived: { started: number; ended: number } | undefined;
      const late = message(5);
      const receiving = inbox.receive(late).then((result) => {
        whenReceived = { started: started.length, ended: ended.length };
        return result;
      });
      const released = new Set<string>();
      while (ended.length < 5) {
        await until(() => started.some((id) => !released.has(id)), 'a handler to release');
        const id = started.find((id) => !released.has(id))!;
        released.add(id);
        gates.get(id)!();
        await until(() => ended.includes(id), `handler ${id} to end`);
      }
      expect(await receiving).toEqual({ status: 'created' });
      expect(whenReceived!.ended).toBeLessThanOrEqual(2); // old code: all four
      expect(whenReceived!.started).toBeLessThan(5);
      await until(() => ended.length === 5, 'every handler');
      await inbox.idle();
      expect(await storage.inbox.stats()).toMatchObject({ received: 0, processed: 5, dead: 0 });
    } finally {
      for (const release of gates.values()) release();
      await inbox.stop();
      await db.destroy();
    }
  });
});
