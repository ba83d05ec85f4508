import { readdirSync } from 'node:fs';
import { migrationFiles, resolveTables } from '@messagebox/kysely';
import { expect, it } from 'vitest';
import { sqliteDialect } from '../src/index.js';

// The checked-in migrations/*.sql must be what migrate() runs; after changing a migration, regenerate with `pnpm --filter @messagebox/sqlite test -u`.
const files = migrationFiles(sqliteDialect, resolveTables({}), 'SQLite');
const dir = new URL('../migrations/', import.meta.url);

it.each(files.map((file) => [file.name, file.sql]))('migrations/%s matches migrationSql()', async (name, text) => {
  await expect(text).toMatchFileSnapshot(new URL(name, dir).pathname);
});

it('migrations/ holds no file that migrate() does not run', () => {
  expect(readdirSync(dir).filter((name) => name.endsWith('.sql')).sort()).toEqual(files.map((file) => file.name).sort());
});

it('the files, run in order on an empty database, leave migrate() nothing to do and the stores working', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const Database = (await import('better-sqlite3')).default;
  const { Kysely, SqliteDialect } = await import('kysely');
  const { createMessage } = await import('@messagebox/core');
  const { createSqliteStorage } = await import('../src/index.js');
  const tmp = mkdtempSync(join(tmpdir(), 'messagebox-migration-files-'));
  const database = new Database(join(tmp, 'tool.db'));
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  try {
    for (const file of files) database.exec(file.sql);
    const storage = createSqliteStorage({ db });
    expect(await storage.migrate()).toEqual([]);
    const message = createMessage({ type: 't', source: 's', payload: { n: 1 } }, { now: new Date() });
    await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message]));
    expect((await storage.outbox.list({})).map((row) => row.id)).toEqual([message.id]);
  } finally {
    await db.destroy();
    rmSync(tmp, { recursive: true, force: true });
  }
});
