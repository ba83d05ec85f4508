import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInbox, createMessage, silentLogger, type InboxStore, type Message } from '@messagebox/core';
import Database from 'better-sqlite3';
import { Kysely, sql, SqliteDialect, type Transaction } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MESSAGES = 500;

/**
 * Every statement SQLite runs, counted where better-sqlite3 prepares it
 * (Kysely prepares each one, BEGIN and COMMIT included), split into those run
 * by `claimDue` and the rest.
 */
async function setup(name: string) {
  const database = new Database(join(dir, `${name}.db`));
  const log: string[] = [];
  const prepare = database.prepare.bind(database);
  database.prepare = ((source: string) => (log.push(source), prepare(source))) as typeof database.prepare;
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  const storage = createSqliteStorage({ db });
  await storage.migrate();
  await sql`create table ledger (id text primary key)`.execute(db);
  const messages: Message[] = Array.from({ length: MESSAGES }, (_, n) => createMessage({ type: 'payment.created', payload: { n }, source: 'bench' }, { now: new Date() }));
  await storage.inbox.transaction((tx) => storage.inbox.receiveMany!(tx, messages.map((message) => ({ message }))));
  let claimStatements = 0;
  const store: InboxStore<Transaction<unknown>> = {
    ...storage.inbox,
    claimDue: async (options) => {
      const before = log.length;
      try {
        return await storage.inbox.claimDue(options);
      } finally {
        claimStatements += log.length - before;
      }
    },
  };
  const start = log.length;
  return {
    db,
    storage,
    inbox: createInbox({ store, batchSize: 100, pollIntervalMs: 3_600_000, retention: false, logger: silentLogger }),
    counted: () => ({ total: log.length - start, claims: claimStatements, statements: log.slice(start) }),
  };
}

const handlerInsert = (tx: Transaction<unknown>, ids: string[]) => sql`insert into ledger (id) values ${sql.join(ids.map((id) => sql`(${id})`))}`.execute(tx);

describe('sqlite: statements per handled message (counted)', () => {
  it(`batch handlers: ${MESSAGES} messages in batches of 100 cost at most 0.2 statements per message plus the handler's own, claims included`, async () => {
    const { db, storage, inbox, counted } = await setup('batch');
    let handlerStatements = 0;
    inbox.onBatch('payment.created', async (messages, { tx }) => {
      await handlerInsert(tx, messages.map((m) => m.id));
      handlerStatements++;
    }, { maxMessages: 100 });
    expect(await inbox.processDue()).toBe(MESSAGES);
    const { total, claims, statements } = counted();
    const perMessage = (total - handlerStatements) / MESSAGES;
    console.log(`[sqlite] batch handlers: ${total} statements for ${MESSAGES} messages (${handlerStatements} the handler's, ${claims} claims): ${perMessage.toFixed(3)} per message besides the handler's`);
    expect(statements.filter((s) => /^update/i.test(s) && /processed/.test(s))).toHaveLength(MESSAGES / 100);
    expect(perMessage).toBeLessThanOrEqual(0.2);
    expect(await storage.inbox.stats()).toMatchObject({ received: 0, processed: MESSAGES });
    expect((await sql<{ n: number }>`select count(*) as n from ledger`.execute(db)).rows[0]!.n).toBe(MESSAGES);
    await db.destroy();
  });

  it(`ordinary handlers: ${MESSAGES} messages cost at most 3 statements per message plus the handler's own (BEGIN, UPDATE processed, COMMIT), claims aside`, async () => {
    const { db, storage, inbox, counted } = await setup('single');
    let handlerStatements = 0;
    inbox.on('payment.created', async (message, { tx }) => {
      await handlerInsert(tx, [message.id]);
      handlerStatements++;
    });
    expect(await inbox.processDue()).toBe(MESSAGES);
    const { total, claims } = counted();
    const perMessage = (total - claims - handlerStatements) / MESSAGES;
    console.log(`[sqlite] ordinary handlers: ${total} statements for ${MESSAGES} messages (${handlerStatements} the handler's, ${claims} claims): ${perMessage.toFixed(3)} per message besides the handler's and the claims, ${(claims / MESSAGES).toFixed(3)} claims per message`);
    expect(perMessage).toBeLessThanOrEqual(3);
    expect(claims / MESSAGES).toBeLessThanOrEqual(0.1);
    expect(await storage.inbox.stats()).toMatchObject({ received: 0, processed: MESSAGES });
    await db.destroy();
  });
});
