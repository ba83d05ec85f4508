import { readdirSync } from 'node:fs';
import { migrationFiles, resolveTables } from '@messagebox/kysely';
import { expect, it } from 'vitest';
import { createMessage } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { createConnection } from 'mysql2/promise';
import { createMysqlStorage, mysqlDialect } from '../src/index.js';
import { createTestDatabase, probeMysql } from './support/test-database.js';

// The checked-in migrations/*.sql must be what migrate() runs; after changing a migration, regenerate with `pnpm --filter @messagebox/mysql test -u`.
const files = migrationFiles(mysqlDialect, resolveTables({}), 'MySQL/MariaDB');
const dir = new URL('../migrations/', import.meta.url);

it.each(files.map((file) => [file.name, file.sql]))('migrations/%s matches migrationSql()', async (name, text) => {
  await expect(text).toMatchFileSnapshot(new URL(name, dir).pathname);
});

it('migrations/ holds no file that migrate() does not run', () => {
  expect(readdirSync(dir).filter((name) => name.endsWith('.sql')).sort()).toEqual(files.map((file) => file.name).sort());
});

it.runIf(await requireDatabase('MySQL/MariaDB', probeMysql))('the files, run in order on an empty database, leave migrate() nothing to do and the stores working', async () => {
  const database = await createTestDatabase();
  const db = database.connect(2);
  const connection = await createConnection({ uri: database.url, multipleStatements: true });
  try {
    for (const file of files) await connection.query(file.sql);
    const storage = createMysqlStorage({ db });
    expect(await storage.migrate()).toEqual([]);
    const message = createMessage({ type: 't', source: 's', payload: { n: 1 } }, { now: new Date() });
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message]));
    expect((await storage.outbox.list({})).map((row) => row.id)).toEqual([message.id]);
  } finally {
    await connection.end();
    await db.destroy();
    await database.drop();
  }
});
