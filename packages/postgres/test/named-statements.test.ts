import { createMessage } from '@messagebox/core';
import { requireDatabase, runHotStatementRound } from '@messagebox/testkit';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage, namedStatementsOf } from '../src/index.js';
import { createTestDatabase, openOneConnection, preparedStatements, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const message = (payload: number) => createMessage({ type: 'a.b', payload, source: 'test' }, { now: new Date() });

describe.runIf(reachable)('postgres named prepared statements', () => {
  let database: TestDatabase;
  const opened: Kysely<unknown>[] = [];
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.destroy()));
    await database?.drop();
  });

  const open = () => {
    const connection = openOneConnection(database.url);
    opened.push(connection.db);
    return connection;
  };

  const round = (storage: ReturnType<typeof createPostgresStorage>, k: number) => runHotStatementRound(storage, k);

  it('with the pool passed, add, markSent, receive and markProcessed run named (claims do not), and keep doing their work', async () => {
    const { pool, db } = open();
    // Inserted at add, as in pgTransaction and your own transactions (rows written with COMMIT carry their values as literals: nothing to prepare).
    const storage = createPostgresStorage({ db, pool, tablePrefix: 'named_', writeAtCommit: false });
    await storage.migrate();
    await round(storage, 1);
    const second = await round(storage, 2);
    const statements = await preparedStatements(db);
    const texts = statements.map((s) => s.statement.toLowerCase());
    expect(statements.every((s) => s.name.startsWith('messagebox_'))).toBe(true);
    expect(texts.some((t) => t.includes('insert into "named_outbox"'))).toBe(true);
    expect(texts.some((t) => t.startsWith('update "named_outbox"') && t.includes('"status" ='))).toBe(true);
    expect(texts.some((t) => t.startsWith('insert into "named_inbox"'))).toBe(true);
    expect(texts.some((t) => t.startsWith('update "named_inbox"'))).toBe(true);
    expect(texts.some((t) => t.includes('skip locked'))).toBe(false);
    expect(namedStatementsOf(pool).size).toBe(statements.length);
    expect(await storage.outbox.get(second.sent)).toMatchObject({ status: 'sent', payload: 2 });
    expect(await storage.inbox.get({ source: 'test', id: second.processed })).toMatchObject({ status: 'processed', payload: 2 });
  });

  it('preparedStatements: false, or no pool, prepares nothing', async () => {
    for (const options of [{ preparedStatements: false }, { withoutPool: true }]) {
      const { pool, db } = open();
      const storage = 'withoutPool' in options ? createPostgresStorage({ db, pool: false, tablePrefix: 'plain_' }) : createPostgresStorage({ db, pool, tablePrefix: 'plain_', ...options });
      await storage.migrate();
      await round(storage, 1);
      await round(storage, 2);
      expect(await preparedStatements(db)).toEqual([]);
    }
  });

  it('a failed named statement (fenced out, duplicate key) fails like an unnamed one and the connection stays usable', async () => {
    const { pool, db } = open();
    const storage = createPostgresStorage({ db, pool, tablePrefix: 'fail_' });
    await storage.migrate();
    const m = message(1);
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]));
    await expect(storage.outbox.transaction((tx) => storage.outbox.add(tx, [m]))).rejects.toThrow();
    expect(await storage.outbox.markSent([{ id: m.id, token: 'not-the-claim' }])).toEqual([]);
    const other = message(2);
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [other]));
    expect((await storage.outbox.get(other.id))?.status).toBe('pending');
    expect((await preparedStatements(db)).length).toBeGreaterThan(0);
  });
});
