import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationFiles, resolveTables } from '@messagebox/kysely';
import { runMigrationFilesCases } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createSqliteStorage, sqliteDialect } from '../src/index.js';

// The checked-in migrations/*.sql must be what migrate() runs; after changing a migration: `pnpm --filter @messagebox/sqlite test -u`.
runMigrationFilesCases({
  files: migrationFiles(sqliteDialect, resolveTables({}), 'SQLite'),
  dir: new URL('../migrations/', import.meta.url),
  async withEmptyDatabase(test) {
    const tmp = mkdtempSync(join(tmpdir(), 'messagebox-migration-files-'));
    const database = new Database(join(tmp, 'tool.db'));
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    try {
      await test({ run: async (sql) => database.exec(sql), storage: () => createSqliteStorage({ db }) });
    } finally {
      await db.destroy();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
});
