import { createMessage, createOutbox, type Message, type Transport } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { CompiledQuery, Kysely, PostgresDialect, sql, type Driver } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Kysely 0.28.0–0.28.18 resolved a COMMIT that Postgres answered with ROLLBACK; this driver does the same. */
class ResolvesRolledBackCommitDialect extends PostgresDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.commitTransaction = async (connection) => void (await connection.executeQuery(CompiledQuery.raw('commit')));
    return driver;
  }
}

function recordingTransport(): Transport & { sent: Message[] } {
  const sent: Message[] = [];
  return { name: 'recording', sent, send: async (message) => void sent.push(message) };
}

describe.runIf(reachable)('postgres: a statement error caught inside outbox.transaction()', () => {
  let database: TestDatabase;
  const own: Kysely<unknown>[] = [];
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(async () => {
    for (const db of own) await db.destroy();
    await database?.drop();
  });

  const kyselies = {
    'this Kysely': () => database.connect(4),
    'a Kysely that resolves a COMMIT turned into ROLLBACK (0.28.0–0.28.18)': () => {
      const db = new Kysely<unknown>({ dialect: new ResolvesRolledBackCommitDialect({ pool: new pg.Pool({ connectionString: database.url, max: 4 }) }) });
      own.push(db);
      return db;
    },
  };

  for (const [name, connect] of Object.entries(kyselies)) {
    it(`rejects and sends nothing, with ${name}`, async () => {
      const db = connect();
      const prefix = `ab${own.length}${name.length}_`;
      const storage = createPostgresStorage({ db, pool: false, tablePrefix: prefix });
      await storage.migrate();
      const transport = recordingTransport();
      const outbox = createOutbox({ store: storage.outbox, source: 'vault', logger: silent }).configure('t', { transport });
      let id = '';
      const committed = outbox.transaction(async (tx) => {
        id = (await outbox.add(tx, { type: 't', payload: 1 })).id;
        await sql`select * from no_such_table`.execute(tx).catch(() => undefined); // the business code caught it and carried on
        return 'done';
      });
      await expect(committed).rejects.toThrow();
      await outbox.idle();
      expect(transport.sent).toEqual([]);
      expect(await storage.outbox.get(id)).toBeNull();
      expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: 0 });
    });
  }

  it('rejects when the failed statement was an add run already compiled (the same shape as the add before it), its error caught', async () => {
    const storage = createPostgresStorage({ db: kyselies['a Kysely that resolves a COMMIT turned into ROLLBACK (0.28.0–0.28.18)'](), pool: false, tablePrefix: 'abc_' });
    await storage.migrate();
    const first = createMessage({ type: 't', payload: 1, source: 'vault' }, { now: new Date() });
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [createMessage({ type: 't', payload: 0, source: 'vault' }, { now: new Date() })]));
    const committed = storage.outbox.transaction(async (tx) => {
      await storage.outbox.add(tx, [first]);
      await storage.outbox.add(tx, [first]).catch(() => undefined); // a duplicate id: the INSERT fails, the caller carries on
      return 'done';
    });
    await expect(committed).rejects.toMatchObject({ code: 'store_failed' });
    expect(await storage.outbox.get(first.id)).toBeNull();
  });

  it('commits and sends when the failed statement was rolled back to a savepoint (the transaction is intact)', async () => {
    const db = kyselies['a Kysely that resolves a COMMIT turned into ROLLBACK (0.28.0–0.28.18)']();
    const storage = createPostgresStorage({ db, pool: false, tablePrefix: 'sp_' });
    await storage.migrate();
    const transport = recordingTransport();
    const outbox = createOutbox({ store: storage.outbox, source: 'vault', logger: silent }).configure('t', { transport });
    const message = await outbox.transaction(async (tx) => {
      const added = await outbox.add(tx, { type: 't', payload: 1 });
      await sql`savepoint before_lookup`.execute(tx);
      await sql`select * from no_such_table`.execute(tx).catch(() => sql`rollback to savepoint before_lookup`.execute(tx));
      return added;
    });
    await outbox.idle();
    expect(transport.sent.map((m) => m.id)).toEqual([message.id]);
    expect(await storage.outbox.get(message.id)).toMatchObject({ status: 'sent' });
  });
  it('rejects and sends nothing when a ROLLBACK TO SAVEPOINT undid a message it added (no statement failed)', async () => {
    const storage = createPostgresStorage({ db: database.connect(4), pool: false, tablePrefix: 'spr_' });
    await storage.migrate();
    const transport = recordingTransport();
    const outbox = createOutbox({ store: storage.outbox, source: 'vault', logger: silent }).configure('t', { transport });
    const ids: string[] = [];
    const committed = outbox.transaction(async (tx) => {
      ids.push((await outbox.add(tx, { type: 't', payload: 1 })).id);
      await sql`savepoint optional_part`.execute(tx);
      ids.push((await outbox.add(tx, { type: 't', payload: 2 })).id);
      await sql`rollback to savepoint optional_part`.execute(tx); // the business code changed its mind
      return 'done';
    });
    await expect(committed).rejects.toMatchObject({ code: 'store_failed', message: expect.stringMatching(/SAVEPOINT/) });
    await outbox.idle();
    expect(transport.sent).toEqual([]);
    for (const id of ids) expect(await storage.outbox.get(id)).toBeNull();
  });

  it('commits and sends when a ROLLBACK TO SAVEPOINT undid none of its messages', async () => {
    const storage = createPostgresStorage({ db: database.connect(4), pool: false, tablePrefix: 'spk_' });
    await storage.migrate();
    const transport = recordingTransport();
    const outbox = createOutbox({ store: storage.outbox, source: 'vault', logger: silent }).configure('t', { transport });
    const message = await outbox.transaction(async (tx) => {
      await sql`savepoint optional_part`.execute(tx);
      await sql`select 1`.execute(tx);
      await sql`rollback to savepoint optional_part`.execute(tx);
      return outbox.add(tx, { type: 't', payload: 1 });
    });
    await outbox.idle();
    expect(transport.sent.map((m) => m.id)).toEqual([message.id]);
    expect(await storage.outbox.get(message.id)).toMatchObject({ status: 'sent' });
  });
});
