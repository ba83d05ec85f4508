import { readdirSync } from 'node:fs';
import { migrationFiles, resolveTables } from '@messagebox/kysely';
import { expect, it } from 'vitest';
import { createMessage } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import pg from 'pg';
import { createPostgresDialect, createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres } from './support/test-database.js';

// The checked-in migrations/*.sql must be what migrate() runs; after changing a migration, regenerate with `pnpm --filter @messagebox/postgres test -u`.
const files = migrationFiles(createPostgresDialect({}), resolveTables({}), 'PostgreSQL');
const dir = new URL('../migrations/', import.meta.url);

it.each(files.map((file) => [file.name, file.sql]))('migrations/%s matches migrationSql()', async (name, text) => {
  await expect(text).toMatchFileSnapshot(new URL(name, dir).pathname);
});

it('migrations/ holds no file that migrate() does not run', () => {
  expect(readdirSync(dir).filter((name) => name.endsWith('.sql')).sort()).toEqual(files.map((file) => file.name).sort());
});

it.runIf(await requireDatabase('PostgreSQL', probePostgres))('the files, run in order on an empty database, leave migrate() nothing to do and the stores working', async () => {
  const database = await createTestDatabase();
  const db = database.connect(2);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    for (const file of files) await client.query(file.sql);
    const storage = createPostgresStorage({ db });
    expect(await storage.migrate()).toEqual([]);
    const message = createMessage({ type: 't', source: 's', payload: { n: 1 } }, { now: new Date() });
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message]));
    expect((await storage.outbox.list({})).map((row) => row.id)).toEqual([message.id]);
  } finally {
    await client.end();
    await db.destroy();
    await database.drop();
  }
});
