import { createMessage, createOutbox, isMessageboxError, type Message, type Transport } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage, pgTransaction } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function recordingTransport(): Transport & { sent: Message[] } {
  const sent: Message[] = [];
  return { name: 'recording', sent, send: async (message) => void sent.push(message) };
}

describe.runIf(reachable)('postgres: outbox.transaction() writes the rows add() was given with its COMMIT', () => {
  let database: TestDatabase;
  let db: Kysely<any>;
  const log: CompiledQuery[] = [];
  let n = 0;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.connect(4, log);
    await db.schema.createTable('business').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
  });
  afterAll(() => database?.drop());

  /** A fresh storage and outbox (own tables), sending to a recording transport. */
  async function setUp(options: { writeAtCommit?: boolean } = {}) {
    const storage = createPostgresStorage({ db, tablePrefix: `wac${n++}_`, ...options });
    await storage.migrate();
    const transport = recordingTransport();
    const outbox = createOutbox({ store: storage.outbox, source: 'vault', logger: silent }).configure('t', { transport });
    return { storage, outbox, transport, table: `wac${n - 1}_outbox` };
  }
  const business = async () => (await sql<{ id: number }>`select id from business order by id`.execute(db)).rows.map((r) => r.id);

  it('takes three round trips (BEGIN, the business INSERT, the outbox INSERT with COMMIT), and the message is stored and sent', async () => {
    const { storage, outbox, transport } = await setUp();
    await outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: { n: 0 } })); // the first one also asks whether the driver runs several statements in one query
    await outbox.idle();
    log.length = 0;
    const message = await outbox.transaction(async (tx) => {
      await tx.insertInto('business').values({ id: 1 }).execute();
      return outbox.add(tx, { type: 't', payload: { n: 1 } });
    });
    const statements = log.splice(0).map((q) => q.sql.toLowerCase());
    expect(statements).toHaveLength(3);
    expect(statements[0]).toBe('begin');
    expect(statements[2]).toMatch(/^insert into "wac\d+_outbox".*;\ncommit$/s);
    await outbox.idle();
    expect(transport.sent.map((m) => m.id).at(-1)).toBe(message.id);
    expect(await storage.outbox.get(message.id)).toMatchObject({ status: 'sent', payload: { n: 1 }, source: 'vault', type: 't' });
  });

  it('the COMMIT of rows written unclaimed notifies the workers (pg_notify in it), that of claimed rows does not', async () => {
    const { storage } = await setUp();
    const commitOf = async (claim?: { token: string; leaseMs: number }) => {
      log.length = 0;
      const message = createMessage({ type: 't', payload: 1 }, { source: 'vault', now: new Date() });
      await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message], claim ? { claim } : {}));
      const commit = log.at(-1)!.sql;
      expect(await storage.outbox.get(message.id)).toMatchObject({ attempts: claim ? 1 : 0 });
      return commit;
    };
    expect(await commitOf()).toMatch(/pg_notify.*;\ncommit$/s);
    expect(await commitOf({ token: 'mine', leaseMs: 60_000 })).not.toContain('pg_notify');
  });

  it('writes values that need escaping exactly, with standard_conforming_strings on and off', async () => {
    const { storage, outbox } = await setUp();
    const payload = { quote: "it's", backslash: 'C:\\dir\\n', dollar: '$1 $2 $$ $tag$', sql: "'); drop table business; --", unicode: 'ünï — 😀 \u2028', control: 'tab\there\nline' };
    const headers = { 'x-note': "a 'quoted' \\ value" };
    const added: Message[] = [];
    for (const setting of ['on', 'off']) {
      added.push(
        await outbox.transaction(async (tx) => {
          await sql.raw(`set local standard_conforming_strings = ${setting}`).execute(tx);
          return outbox.add(tx, { type: 't', payload, headers });
        }),
      );
    }
    await outbox.idle();
    for (const message of added) expect(await storage.outbox.get(message.id)).toMatchObject({ payload, headers });
    await expect(business()).resolves.toEqual(expect.any(Array)); // the table the payload names is still there
  });

  it('a SELECT of the outbox inside the transaction does not see the row; after COMMIT it is there', async () => {
    const { storage, outbox, table } = await setUp();
    let inside = -1;
    const message = await outbox.transaction(async (tx) => {
      const added = await outbox.add(tx, { type: 't', payload: 1 });
      inside = (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where id = ${added.id}`.execute(tx)).rows[0]!.n;
      return added;
    });
    expect(inside).toBe(0);
    expect(await storage.outbox.get(message.id)).not.toBeNull();
  });

  it('rolls back with the business transaction: a rejected fn leaves no message and sends nothing', async () => {
    const { storage, outbox, transport } = await setUp();
    let id = '';
    await expect(
      outbox.transaction(async (tx) => {
        await tx.insertInto('business').values({ id: 2 }).execute();
        id = (await outbox.add(tx, { type: 't', payload: 1 })).id;
        throw new Error('business rule');
      }),
    ).rejects.toThrow('business rule');
    await outbox.idle();
    expect(transport.sent).toEqual([]);
    expect(await storage.outbox.get(id)).toBeNull();
    expect(await business()).not.toContain(2);
  });

  it('a duplicate message id fails outbox.transaction() at COMMIT with store_failed; nothing commits, nothing is sent', async () => {
    const { storage, outbox, transport } = await setUp();
    const first = await outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: 1 }));
    await outbox.idle();
    transport.sent.length = 0;
    const failed = outbox.transaction(async (tx) => {
      await tx.insertInto('business').values({ id: 3 }).execute();
      return outbox.add(tx, { type: 't', payload: 2, id: first.id });
    });
    await expect(failed).rejects.toMatchObject({ code: 'store_failed', message: expect.stringMatching(/COMMIT.*duplicate key/s) });
    await failed.catch((error: unknown) => expect(isMessageboxError(error, 'store_failed') && (error.cause as { code?: string }).code).toBe('23505'));
    await outbox.idle();
    expect(transport.sent).toEqual([]);
    expect(await business()).not.toContain(3);
    expect(await storage.outbox.get(first.id)).toMatchObject({ payload: 1 });
  });

  it('a payload the column refuses fails at COMMIT with store_failed, and the connection goes on working', async () => {
    const { storage, outbox, transport, table } = await setUp();
    await sql`alter table ${sql.table(table)} add constraint small_payload check (length(payload) < 20)`.execute(db);
    await expect(
      outbox.transaction(async (tx) => {
        await tx.insertInto('business').values({ id: 4 }).execute();
        return outbox.add(tx, { type: 't', payload: 'x'.repeat(40) });
      }),
    ).rejects.toMatchObject({ code: 'store_failed', message: expect.stringMatching(/small_payload/) });
    expect(await business()).not.toContain(4);
    const ok = await outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: 'fits' }));
    await outbox.idle();
    expect(transport.sent.map((m) => m.id)).toEqual([ok.id]);
    expect(await storage.outbox.get(ok.id)).toMatchObject({ status: 'sent' });
  });

  it('add still validates at once: an invalid payload throws at add, inside the transaction', async () => {
    const { outbox } = await setUp();
    let thrown: unknown;
    await outbox.transaction(async (tx) => {
      thrown = await outbox.add(tx, { type: 't', payload: { n: Number.NaN } }).catch((error: unknown) => error);
    });
    expect(thrown).toMatchObject({ code: 'invalid_payload' });
  });

  it('with a driver that sends every query over the extended protocol (no several statements in one), inserts at add and commits', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('acquire', (client) => {
      const query = client.query.bind(client) as (config: unknown) => Promise<unknown>;
      (client as unknown as { query: unknown }).query = (config: string | object, values?: unknown[]) =>
        query(typeof config === 'string' ? { text: config, values: values ?? [], queryMode: 'extended' } : { ...config, queryMode: 'extended' });
    });
    const extended = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    try {
      const storage = createPostgresStorage({ db: extended, pool, tablePrefix: 'ext_' });
      await storage.migrate();
      const transport = recordingTransport();
      const outbox = createOutbox({ store: storage.outbox, source: 'vault', logger: silent }).configure('t', { transport });
      let inside = -1;
      const message = await outbox.transaction(async (tx) => {
        const added = await outbox.add(tx, { type: 't', payload: 1 });
        inside = (await sql<{ n: number }>`select count(*)::int as n from ext_outbox where id = ${added.id}`.execute(tx)).rows[0]!.n;
        return added;
      });
      await outbox.idle();
      expect(inside).toBe(1);
      expect(transport.sent.map((m) => m.id)).toEqual([message.id]);
      expect(await storage.outbox.get(message.id)).toMatchObject({ status: 'sent' });
    } finally {
      await extended.destroy();
    }
  });

  it('inserts at once where the row must be in the table before COMMIT: keyed messages, after a savepoint, writeAtCommit: false, pgTransaction', async () => {
    const { outbox, table } = await setUp();
    const seen = (tx: Kysely<any>, id: string) => sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where id = ${id}`.execute(tx).then((r) => r.rows[0]!.n);
    await outbox.transaction(async (tx) => {
      expect(await seen(tx, (await outbox.add(tx, { type: 't', payload: 1, key: 'k' })).id)).toBe(1);
      await sql`savepoint later`.execute(tx);
      expect(await seen(tx, (await outbox.add(tx, { type: 't', payload: 2 })).id)).toBe(1);
    });
    const off = await setUp({ writeAtCommit: false });
    await off.outbox.transaction(async (tx) => {
      const added = await off.outbox.add(tx, { type: 't', payload: 3 });
      expect((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(off.table)} where id = ${added.id}`.execute(tx)).rows[0]!.n).toBe(1);
    });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const added = await outbox.add(pgTransaction(client), { type: 't', payload: 4 });
      expect((await client.query(`select count(*)::int as n from "${table}" where id = $1`, [added.id])).rows[0]).toEqual({ n: 1 });
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  });
});
