import { createOutbox, MessageboxError, type Message, type Transport } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { PrismaPg } from '@prisma/adapter-pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { sql, type Kysely } from 'kysely';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresStorage, pgTransaction, type PostgresStorage } from '../src/index.js';
import { drizzleQuery } from './support/drizzle-query.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const payment = pgTable('jt_payment', { id: text('id').primaryKey(), amount: integer('amount').notNull() });

describe.runIf(reachable)('postgres: the outbox joins a transaction the application opened', () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;
  let pool: pg.Pool;
  let storage: PostgresStorage<unknown>;
  let sent: Message[];
  let outbox: ReturnType<typeof makeOutbox>;
  const makeOutbox = () => {
    const transport: Transport = { name: 'recording', send: async (message) => void sent.push(message) };
    return createOutbox({ store: storage.outbox, source: 'vault', logger: silent, sendAfterCommit: false }).configure('payment.created', { transport });
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.connect(4);
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    storage = createPostgresStorage({ db, tablePrefix: 'jt_' });
    await storage.migrate();
    await sql`create table jt_payment (id text primary key, amount integer not null)`.execute(db);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.destroy();
    await database?.drop();
  });
  beforeEach(() => {
    sent = [];
    outbox = makeOutbox();
  });

  const paymentRows = async (id: string) => (await pool.query('select id, amount from jt_payment where id = $1', [id])).rows;
  const outboxRows = async (id: string) => (await storage.outbox.list({})).filter((row) => row.id === id);

  it('plain pg: BEGIN … COMMIT by the application commits the business row and its message together', async () => {
    const client = await pool.connect();
    let message: Message;
    try {
      await client.query('BEGIN');
      await client.query('insert into jt_payment (id, amount) values ($1, $2)', ['pg-1', 100]);
      message = await outbox.add(pgTransaction(client), { type: 'payment.created', payload: { id: 'pg-1', amount: 100 } });
      // Not committed yet: another connection sees neither, and a resend pass finds nothing to send.
      expect(await paymentRows('pg-1')).toEqual([]);
      expect(await outboxRows(message.id)).toEqual([]);
      expect((await outbox.resendUnsentMessages()).attempted).toBe(0);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await paymentRows('pg-1')).toEqual([{ id: 'pg-1', amount: 100 }]);
    expect(await outboxRows(message.id)).toMatchObject([{ id: message.id, status: 'pending' }]);
    expect((await outbox.deliver([message])).sent).toBe(1);
    expect(sent.map((m) => m.id)).toEqual([message.id]);
    expect(await outboxRows(message.id)).toMatchObject([{ status: 'sent' }]);
  });

  it('plain pg: ROLLBACK leaves neither the business row nor the message, and nothing is sent', async () => {
    const client = await pool.connect();
    let message: Message;
    try {
      await client.query('BEGIN');
      await client.query('insert into jt_payment (id, amount) values ($1, $2)', ['pg-2', 200]);
      message = await outbox.add(pgTransaction(client), { type: 'payment.created', payload: { id: 'pg-2' } });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await paymentRows('pg-2')).toEqual([]);
    expect(await outboxRows(message.id)).toEqual([]);
    expect((await outbox.deliver([message])).sent).toBe(0);
    expect(sent).toEqual([]);
  });

  it('Drizzle: db.transaction() commits the business row and its message together', async () => {
    const orm = drizzle(pool);
    const message = await orm.transaction(async (tx) => {
      await tx.insert(payment).values({ id: 'dz-1', amount: 300 });
      return outbox.add(pgTransaction(drizzleQuery(tx)), { type: 'payment.created', payload: { id: 'dz-1', amount: 300 } });
    });
    expect(await paymentRows('dz-1')).toEqual([{ id: 'dz-1', amount: 300 }]);
    expect(await outboxRows(message.id)).toMatchObject([{ id: message.id, type: 'payment.created', payload: { id: 'dz-1', amount: 300 }, status: 'pending' }]);
    expect((await outbox.deliver([message])).sent).toBe(1);
    expect(sent.map((m) => m.payload)).toEqual([{ id: 'dz-1', amount: 300 }]);
  });

  it('Drizzle: a transaction that throws (or tx.rollback()) leaves neither', async () => {
    const orm = drizzle(pool);
    let id = '';
    await expect(
      orm.transaction(async (tx) => {
        await tx.insert(payment).values({ id: 'dz-2', amount: 400 });
        id = (await outbox.add(pgTransaction(drizzleQuery(tx)), { type: 'payment.created', payload: { id: 'dz-2' } })).id;
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    await orm
      .transaction(async (tx) => {
        await tx.insert(payment).values({ id: 'dz-3', amount: 500 });
        await outbox.add(pgTransaction(drizzleQuery(tx)), { type: 'payment.created', payload: { id: 'dz-3' } });
        tx.rollback();
      })
      .catch(() => undefined);
    expect(id).not.toBe('');
    expect(await paymentRows('dz-2')).toEqual([]);
    expect(await paymentRows('dz-3')).toEqual([]);
    expect(await storage.outbox.list({})).toEqual(expect.not.arrayContaining([expect.objectContaining({ payload: { id: 'dz-2' } }), expect.objectContaining({ payload: { id: 'dz-3' } })]));
    expect((await outbox.resendUnsentMessages()).attempted).toBe(0);
  });

  it('a message with no transport configured is refused before anything is written to the transaction', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await expect(outbox.add(pgTransaction(client), { type: 'payment.unrouted', payload: {} })).rejects.toMatchObject({ code: 'no_transport' });
      await client.query('insert into jt_payment (id, amount) values ($1, $2)', ['pg-4', 1]); // the transaction still works
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await paymentRows('pg-4')).toHaveLength(1);
  });

  describe('Prisma 7 (driver adapter for pg, no engines downloaded)', () => {
    // The client is generated from test/prisma/schema.prisma at test time. `prisma generate` needs no
    // engine binary, but it tries to download the schema engine unless told where one is: it is never run.
    const schema = fileURLToPath(new URL('./prisma/schema.prisma', import.meta.url));
    const prismaCli = join(dirname(createRequire(import.meta.url).resolve('prisma/package.json')), 'build', 'index.js');
    type Tx = { payment: { create(args: { data: { id: string; amount: number } }): Promise<unknown> }; $queryRawUnsafe(text: string, ...values: unknown[]): Promise<unknown[]> };
    let prisma: { $transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>; $disconnect(): Promise<void> };
    const prismaQuery = (tx: Tx) => (text: string, values: unknown[]) => tx.$queryRawUnsafe(text, ...values);

    beforeAll(async () => {
      await promisify(execFile)(process.execPath, [prismaCli, 'generate', '--schema', schema], {
        env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
        timeout: 120_000,
      });
      const generated = fileURLToPath(new URL('./prisma/generated/client.ts', import.meta.url));
      const { PrismaClient } = (await import(generated)) as { PrismaClient: new (options: unknown) => typeof prisma };
      prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
    }, 180_000);
    afterAll(async () => {
      await prisma?.$disconnect();
    });

    it('an interactive transaction commits the business row and its message together', async () => {
      const message = await prisma.$transaction(async (tx) => {
        await tx.payment.create({ data: { id: 'pr-1', amount: 600 } });
        return outbox.add(pgTransaction(prismaQuery(tx)), { type: 'payment.created', payload: { id: 'pr-1', amount: 600 } });
      });
      expect(await paymentRows('pr-1')).toEqual([{ id: 'pr-1', amount: 600 }]);
      expect(await outboxRows(message.id)).toMatchObject([{ id: message.id, payload: { id: 'pr-1', amount: 600 }, status: 'pending' }]);
      expect((await outbox.deliver([message])).sent).toBe(1);
      expect(sent.map((m) => m.id)).toEqual([message.id]);
    });

    it('an interactive transaction that throws leaves neither', async () => {
      let id = '';
      await expect(
        prisma.$transaction(async (tx) => {
          await tx.payment.create({ data: { id: 'pr-2', amount: 700 } });
          id = (await outbox.add(pgTransaction(prismaQuery(tx)), { type: 'payment.created', payload: { id: 'pr-2' } })).id;
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      expect(id).not.toBe('');
      expect(await paymentRows('pr-2')).toEqual([]);
      expect(await outboxRows(id)).toEqual([]);
      expect((await outbox.deliver([id])).sent).toBe(0);
    });
  });

  it('refuses something that is not a pg client or a query function, with a clear error', () => {
    for (const bad of [42, null, {}, 'postgres://x']) {
      expect(() => pgTransaction(bad as never)).toThrow(MessageboxError);
      expect(() => pgTransaction(bad as never)).toThrow(/pgTransaction needs the pg client/);
    }
  });
});
