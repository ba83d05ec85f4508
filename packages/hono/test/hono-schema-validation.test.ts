import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutbox, defineMessages, isPayloadValidationError, silentLogger } from '@messagebox/core';
import { createSqliteStorage } from '@messagebox/sqlite';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { runSchemaValidationSuite } from '@messagebox/testkit';
import * as v from 'valibot';
import { z } from 'zod';
import { honoHarness } from './harness.js';
import { createSqliteInboxStore } from './sqlite-store.js';

const zodSchema = z.object({ id: z.string(), amount: z.number().positive() });
const valibotSchema = v.object({ id: v.string(), amount: v.pipe(v.number(), v.minValue(Number.MIN_VALUE)) });

runSchemaValidationSuite({ ...honoHarness, name: 'hono + sqlite' }, { library: 'zod', schema: zodSchema, createStore: createSqliteInboxStore });
runSchemaValidationSuite({ ...honoHarness, name: 'hono + sqlite' }, { library: 'valibot', schema: valibotSchema, createStore: createSqliteInboxStore });

// Validation at `add` on a real store (SQLite): nothing written, the business row of the same transaction rolled back too.
describe('outbox add validation on SQLite', () => {
  it('refuses an invalid payload with its issues and writes nothing; a valid one is written with the schema output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'messagebox-outbox-'));
    const database = new Database(join(dir, 'outbox.db'));
    const db = new Kysely<{ orders: { id: string } }>({ dialect: new SqliteDialect({ database }) });
    try {
      const storage = createSqliteStorage({ db });
      await storage.migrate();
      await db.schema.createTable('orders').addColumn('id', 'text', (c) => c.primaryKey()).execute();
      const catalog = defineMessages({ 'order.created': zodSchema.extend({ note: z.string().default('none') }) });
      const transport = { name: 'unused', send: async () => {} };
      const outbox = createOutbox({ store: storage.outbox, source: 'shop', catalog, logger: silentLogger, sendAfterCommit: false }).configure('order.created', { transport });
      const error = await outbox
        .transaction(async (tx) => {
          await tx.insertInto('orders' as never).values({ id: 'o-1' } as never).execute();
          await outbox.add(tx, { type: 'order.created', payload: { id: 'o-1', amount: 0 } });
        })
        .then(() => undefined, (e: unknown) => e);
      expect(isPayloadValidationError(error)).toBe(true);
      expect((error as { issues: Array<{ path: unknown[] }> }).issues[0]!.path).toEqual(['amount']);
      expect(await storage.outbox.list()).toEqual([]);
      expect(await db.selectFrom('orders').selectAll().execute()).toEqual([]);
      const written = await outbox.transaction((tx) => outbox.add(tx, { type: 'order.created', payload: { id: 'o-2', amount: 3 } }));
      expect((await storage.outbox.get(written.id))?.payload).toEqual({ id: 'o-2', amount: 3, note: 'none' });
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
