import { createOutbox, MessageboxError, silentLogger, type Message } from '@messagebox/core';
import { requireDatabase, runJoinedTransactionCases } from '@messagebox/testkit';
import { PrismaPg } from '@prisma/adapter-pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { sql, type Kysely, type Transaction } from 'kysely';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage, pgTransaction, type PostgresStorage } from '../src/index.js';
import { drizzleQuery } from './support/drizzle-query.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const payment = pgTable('jt_payment', { id: text('id').primaryKey(), amount: integer('amount').notNull() });

// Prisma's client is generated from test/prisma/schema.prisma at test time. `prisma generate` needs no engine
// binary, but it tries to download the schema engine unless told where one is: it is never run.
const schema = fileURLToPath(new URL('./prisma/schema.prisma', import.meta.url));
const prismaCli = join(dirname(createRequire(import.meta.url).resolve('prisma/package.json')), 'build', 'index.js');
type PrismaTx = { payment: { create(args: { data: { id: string; amount: number } }): Promise<unknown> }; $queryRawUnsafe(text: string, ...values: unknown[]): Promise<unknown[]> };
type Prisma = { $transaction<T>(fn: (tx: PrismaTx) => Promise<T>): Promise<T>; $disconnect(): Promise<void> };

class RollBack extends Error {}

describe.runIf(reachable)('postgres: the outbox joins a transaction the application opened', () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;
  let pool: pg.Pool;
  let storage: PostgresStorage<unknown>;
  let prisma: Prisma;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.connect(4);
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    storage = createPostgresStorage({ db, pool: false, tablePrefix: 'jt_' });
    await storage.migrate();
    await sql`create table jt_payment (id text primary key, amount integer not null)`.execute(db);
    await promisify(execFile)(process.execPath, [prismaCli, 'generate', '--schema', schema], {
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      timeout: 120_000,
    });
    const generated = fileURLToPath(new URL('./prisma/generated/client.ts', import.meta.url));
    const { PrismaClient } = (await import(generated)) as { PrismaClient: new (options: unknown) => Prisma };
    prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
  }, 180_000);
  afterAll(async () => {
    await prisma?.$disconnect();
    await pool?.end();
    await db?.destroy();
    await database?.drop();
  });

  /** Runs `fn` in an ORM transaction that commits, or rolls back by throwing; resolves with `fn`'s result either way. */
  async function ormTransaction(end: 'commit' | 'rollback', open: (fn: () => Promise<void>) => Promise<unknown>, fn: () => Promise<Message>): Promise<Message> {
    let result: Message | undefined;
    await open(async () => {
      result = await fn();
      if (end === 'rollback') throw new RollBack();
    }).catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
    return result!;
  }

  runJoinedTransactionCases<Transaction<unknown>>({
    store: () => storage.outbox,
    businessRows: async (id) => (await pool.query('select id from jt_payment where id = $1', [id])).rows,
    ways: [
      {
        name: 'plain pg (BEGIN … COMMIT/ROLLBACK on a PoolClient)',
        async run(id, add, end) {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            await client.query('insert into jt_payment (id, amount) values ($1, $2)', [id, 1]);
            const message = await add(pgTransaction(client));
            await client.query(end === 'commit' ? 'COMMIT' : 'ROLLBACK');
            return message;
          } finally {
            client.release();
          }
        },
      },
      {
        name: 'Drizzle (db.transaction, node-postgres)',
        run: (id, add, end) => {
          let tx: Parameters<typeof drizzleQuery>[0];
          return ormTransaction(
            end,
            (fn) => drizzle(pool).transaction(async (t) => {
              tx = t;
              await t.insert(payment).values({ id, amount: 1 });
              await fn();
            }),
            () => add(pgTransaction(drizzleQuery(tx))),
          );
        },
      },
      {
        name: 'Prisma 7 interactive transaction (driver adapter, no engines downloaded)',
        run: (id, add, end) => {
          let tx: PrismaTx;
          return ormTransaction(
            end,
            (fn) => prisma.$transaction(async (t) => {
              tx = t;
              await t.payment.create({ data: { id, amount: 1 } });
              await fn();
            }),
            () => add(pgTransaction((text, values) => tx.$queryRawUnsafe(text, ...values))),
          );
        },
      },
    ],
  });

  it('a message with no transport configured is refused before anything is written to the transaction', async () => {
    const outbox = createOutbox({ store: storage.outbox, source: 'vault', logger: silentLogger });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await expect(outbox.add(pgTransaction(client), { type: 'payment.unrouted', payload: {} })).rejects.toMatchObject({ code: 'no_transport' });
      await client.query('insert into jt_payment (id, amount) values ($1, $2)', ['pg-4', 1]); // the transaction still works
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect((await pool.query('select id from jt_payment where id = $1', ['pg-4'])).rows).toHaveLength(1);
  });

  it('refuses something that is not a pg client or a query function, with a clear error', () => {
    for (const bad of [42, null, {}, 'postgres://x']) {
      expect(() => pgTransaction(bad as never)).toThrow(MessageboxError);
      expect(() => pgTransaction(bad as never)).toThrow(/pgTransaction needs the pg client/);
    }
  });
});
