import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectGroupCommitUnderLoad } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-gc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite: group commit of inbox receives', () => {
  it('32 concurrent receivers cost at most 1.2 statements per received message (counted by Kysely), each stored once', async () => {
    let statements = 0;
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(join(dir, 'gc.db')) }), log: () => void statements++ });
    const storage = createSqliteStorage({ db });
    await storage.migrate();
    const load = await expectGroupCommitUnderLoad({ store: storage.inbox, statements: () => statements });
    console.log(`[sqlite] group commit: ${load.receives} receives by 32 callers: ${load.perMessage.toFixed(3)} statements per receive (without: ${load.perMessageUnbatched.toFixed(3)})`);
    expect(load.perMessage).toBeLessThanOrEqual(1.2);
    expect(load.perMessage).toBeLessThan(load.perMessageUnbatched);
    await db.destroy();
  });
});
