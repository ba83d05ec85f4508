import { MessageboxError } from '@messagebox/core';
import type { MessageboxDialect } from './dialect.js';
import { migrations } from './migrations.js';
import type { MessageboxTables } from './tables.js';

/** One migration as an SQL file for a migration tool (Flyway, dbmate, Prisma Migrate, drizzle-kit custom migrations, …). */
export interface MigrationFile {
  /** `<migration name>.sql`, e.g. `0001_create_outbox_and_inbox.sql`; sorted by name they run in order. */
  readonly name: string;
  /** A header comment, then the statements, each ending with `;`. */
  readonly sql: string;
}

/**
 * The migrations `migrate()` applies, one file each, for the tables `tables`
 * names (a migration with nothing to change for this dialect only records
 * itself). Each file
 * also records its migration in the migrations table (with `applied_at` 0),
 * so a later `migrate()` (the CLI's, or at start-up) skips what a file
 * applied instead of running it twice. The dialect packages check theirs in
 * under `migrations/` for the default table names.
 *
 * @example
 * for (const file of migrationFiles(sqliteDialect, resolveTables({ tablePrefix: 'app_' }), 'SQLite')) writeFileSync(`migrations/${file.name}`, file.sql);
 */
export function migrationFiles(dialect: MessageboxDialect, tables: MessageboxTables, database: string): MigrationFile[] {
  const createMigrationsTable = dialect.createMigrationsTable(tables);
  const quoted = /^CREATE TABLE IF NOT EXISTS (\S+) \(/i.exec(createMigrationsTable.at(-1) ?? '')?.[1];
  if (!quoted) throw new MessageboxError('invalid_options', `[messagebox] migrationFiles: cannot find the migrations table in ${JSON.stringify(createMigrationsTable.at(-1))}`);
  return migrations.map((migration) => {
    const statements = migration.statements(dialect, tables);
    const record = `INSERT INTO ${quoted} (name, applied_at) SELECT '${migration.name}', 0 WHERE NOT EXISTS (SELECT 1 FROM ${quoted} WHERE name = '${migration.name}')`;
    const header = [
      `-- messagebox migration ${migration.name} for ${database} (tables ${tables.outboxRef}, ${tables.inboxRef}).`,
      '-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where',
      '-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.',
    ];
    if (statements.length === 0) header.push(`-- Nothing changes for ${database}: the file only records the migration.`);
    const body = [...createMigrationsTable, ...statements, record].map((statement) => `${statement.trim().replace(/;$/, '')};`);
    return { name: `${migration.name}.sql`, sql: `${[...header, '', body.join('\n\n')].join('\n')}\n` };
  });
}
