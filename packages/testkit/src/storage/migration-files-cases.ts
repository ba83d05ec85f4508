import { readdirSync } from 'node:fs';
import { createMessage, type OutboxStore } from '@messagebox/core';
import { expect, it } from 'vitest';

/** What {@link runMigrationFilesCases} needs from a dialect package. */
export interface MigrationFilesHarness {
  /** `migrationFiles(dialect, resolveTables({}), name)` from `@messagebox/kysely`. */
  files: ReadonlyArray<{ name: string; sql: string }>;
  /** The package's `migrations/` folder (a file URL ending in `/`). */
  dir: URL;
  /**
   * Runs `test` with an empty database: `run` executes one file's SQL on it,
   * `storage()` opens the package's storage on it (default table names).
   * Cleans up after. Leave it out when the database is unreachable (outside
   * CI): that case is then skipped.
   */
  withEmptyDatabase?: (test: (database: { run(sql: string): Promise<unknown>; storage(): { migrate(): Promise<string[]>; outbox: OutboxStore<any> } }) => Promise<void>) => Promise<void>;
}

/**
 * The checked-in `migrations/*.sql` are exactly what `migrate()` runs (a
 * file snapshot: CI fails on drift; `vitest -u` rewrites them), no stale file
 * lies beside them, and the files run on an empty database leave `migrate()`
 * nothing to do and the stores working.
 *
 * @example
 * runMigrationFilesCases({ files: migrationFiles(sqliteDialect, resolveTables({}), 'SQLite'), dir: new URL('../migrations/', import.meta.url), withEmptyDatabase });
 */
export function runMigrationFilesCases(harness: MigrationFilesHarness): void {
  const { files, dir } = harness;
  it.each(files.map((file) => [file.name, file.sql]))('migrations/%s matches migrationSql()', async (name, text) => {
    await expect(text).toMatchFileSnapshot(new URL(name, dir).pathname);
  });

  it('migrations/ holds no file that migrate() does not run', () => {
    expect(readdirSync(dir).filter((name) => name.endsWith('.sql')).sort()).toEqual(files.map((file) => file.name).sort());
  });

  it.runIf(harness.withEmptyDatabase !== undefined)('the files, run in order on an empty database, leave migrate() nothing to do and the stores working', async () => {
    await harness.withEmptyDatabase!(async (database) => {
      for (const file of files) await database.run(file.sql);
      const storage = database.storage();
      expect(await storage.migrate()).toEqual([]);
      const message = createMessage({ type: 't', source: 's', payload: { n: 1 } }, { now: new Date() });
      await storage.outbox.transaction((tx) => storage.outbox.add(tx, [message]));
      expect((await storage.outbox.list({})).map((row) => row.id)).toEqual([message.id]);
    });
  });
}
