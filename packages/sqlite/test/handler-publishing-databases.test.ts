import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInbox, createOutbox, silentLogger } from '@messagebox/core';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-sqlite-publish-'));
const opened: Kysely<unknown>[] = [];
afterAll(async () => {
  await Promise.all(opened.map((db) => db.destroy()));
  rmSync(dir, { recursive: true, force: true });
});
const open = (name: string) => {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(join(dir, name)) }) });
  opened.push(db);
  return db;
};

describe('createInbox({ outbox }) with SQL stores', () => {
  it('refuses an outbox on another database (another Kysely instance), with the reason', () => {
    const inbox = createSqliteStorage({ db: open('inbox.db') }).inbox;
    const outbox = createOutbox({ store: createSqliteStorage({ db: open('outbox.db') }).outbox, source: 'ledger', logger: silentLogger });
    expect(() => createInbox({ store: inbox, outbox, logger: silentLogger })).toThrow(expect.objectContaining({ code: 'invalid_options', message: expect.stringContaining('`outbox` uses another database (another Kysely instance) than the inbox store') }));
  });

  it('takes stores of one Kysely instance, also from two storages with other table prefixes', () => {
    const db = open('shared.db');
    const outbox = createOutbox({ store: createSqliteStorage({ db, tablePrefix: 'out_' }).outbox, source: 'ledger', logger: silentLogger });
    expect(() => createInbox({ store: createSqliteStorage({ db, tablePrefix: 'in_' }).inbox, outbox, logger: silentLogger })).not.toThrow();
  });
});
