import { createMessage, type Clock, type InboxEntry } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, openOneConnection, preparedStatements, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);

describe.runIf(reachable)('postgres: the inbox multi-row insert as arrays (unnest)', () => {
  let database: TestDatabase;
  const opened: Kysely<unknown>[] = [];
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.destroy()));
    await database?.drop();
  });

  const open = async (tablePrefix: string, clock?: Clock) => {
    const { pool, db } = openOneConnection(database.url);
    opened.push(db);
    const storage = createPostgresStorage({ db, pool, tablePrefix, ...(clock ? { clock } : {}) });
    await storage.migrate();
    return { db, storage };
  };
  const inserts = async (db: Kysely<unknown>, table: string) => (await preparedStatements(db)).map((r) => r.statement).filter((s) => s.startsWith(`insert into "${table}"`));

  it('batches of 1, 3 and 250 rows run one named statement whose text does not depend on the row count', async () => {
    const { db, storage } = await open('arrays_');
    let n = 0;
    const entries = (count: number): InboxEntry[] =>
      Array.from({ length: count }, () => ({ message: createMessage({ type: 't', source: 'app', payload: { n: n++ } }, { now: new Date() }) }));
    const sizes = [1, 3, 250];
    for (const size of sizes) {
      const batch = entries(size);
      expect(await storage.inbox.receiveManyCommitted!(batch)).toEqual(batch.map(() => true));
      expect(await storage.inbox.receiveManyCommitted!(batch), 'the same batch again: every row a duplicate').toEqual(batch.map(() => false));
    }
    const texts = await inserts(db, 'arrays_inbox');
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('unnest(');
    expect((await storage.inbox.stats()).received).toBe(254);
  });

  it('stores every value exactly: quotes, backslashes, braces, commas, NULL-looking text, non-ASCII, keyed and unkeyed rows together, claimed and unclaimed rows together', async () => {
    const { db, storage } = await open('values_');
    const awkward = ['a"b', 'back\\slash', '{braces}', 'com,ma', 'NULL', '', 'ünï€😀', "it's"];
    const entriesOf = (claimed: (i: number) => boolean, round: number): InboxEntry[] =>
      awkward.map((text, i) => ({
        message: createMessage(
          { type: `t.${i}`, source: 'app', id: `id-${/^[\x21-\x7e]*$/.test(text) ? text : 'x'}-${round}-${i}`, payload: { text, list: [text, null, i] }, headers: { h: text }, ...(i % 2 ? { key: `key-${i}` } : {}) },
          { now: new Date(1_700_000_000_000 + i) },
        ),
        ...(claimed(i) ? { claim: { token: `token-${i}`, leaseMs: 60_000 } } : {}),
      }));
    const check = async (entries: InboxEntry[]) => {
      expect(await storage.inbox.transaction((tx) => storage.inbox.receiveMany!(tx, entries))).toEqual(entries.map(() => true));
      for (const [i, entry] of entries.entries()) {
        const record = await storage.inbox.get({ source: entry.message.source, id: entry.message.id });
        expect(record).toMatchObject({ type: entry.message.type, payload: entry.message.payload, headers: entry.message.headers, createdAt: entry.message.createdAt, status: 'received', attempts: entry.claim ? 1 : 0 });
        expect(record?.key).toBe(i % 2 ? `key-${i}` : undefined);
        expect(record!.leaseUntil === null).toBe(entry.claim === undefined);
        // A claimed row is due when its lease ends (60 s from now), an unclaimed one now.
        if (entry.claim) expect(record!.availableAt).toEqual(record!.leaseUntil);
        else expect(record!.availableAt.getTime()).toBeLessThanOrEqual(Date.now());
      }
    };
    await check(entriesOf(() => false, 1));
    expect(await inserts(db, 'values_inbox'), 'unclaimed rows: the arrays statement').toHaveLength(1);
    await check(entriesOf((i) => i % 3 === 0, 2)); // their lease columns differ row by row: chosen per row by CASE
    const texts = await inserts(db, 'values_inbox');
    expect(texts, 'claimed beside unclaimed rows: a second arrays statement').toHaveLength(2);
    expect(texts.every((t) => t.includes('unnest('))).toBe(true);
    expect(texts.some((t) => t.includes('case r."available_at" when 0 then'))).toBe(true);
  });

  it('with an injected clock (its time a literal per call) batches keep the VALUES statement: no one-off texts are named', async () => {
    let now = 1_700_000_000_000;
    const { db, storage } = await open('clock_', { now: () => (now += 1_000) });
    for (let i = 0; i < 5; i++) {
      const entries: InboxEntry[] = [0, 1].map((j) => ({ message: createMessage({ type: 't', source: 'app', payload: { i, j } }, { now: new Date() }), ...(j ? { claim: { token: `t${i}`, leaseMs: 60_000 } } : {}) }));
      expect(await storage.inbox.receiveManyCommitted!(entries)).toEqual([true, true]);
    }
    expect(await inserts(db, 'clock_inbox')).toEqual([]);
    const rows = await storage.inbox.list({});
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.receivedAt.getTime() > 1_700_000_000_000)).toBe(true); // the clock's time, not the database's
  });
});
