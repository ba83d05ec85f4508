import { sql } from 'kysely';
import type { AnyDb, MessageboxDialect } from './dialect.js';
import type { MessageboxTables } from './tables.js';

/** One schema change, as DDL statements for a dialect. */
export interface MessageboxMigration {
  readonly name: string;
  statements(dialect: MessageboxDialect, tables: MessageboxTables): string[];
}

/** Every migration, in order. Append only. */
export const migrations: readonly MessageboxMigration[] = [
  { name: '0001_create_outbox_and_inbox', statements: (dialect, tables) => dialect.createTables(tables) },
  { name: '0003_mysql_claim_order', statements: (dialect, tables) => dialect.claimOrderIndexes?.(tables) ?? [] },
];

/** The DDL of every migration, for users who run their own migration tool. */
export function migrationSql(dialect: MessageboxDialect, tables: MessageboxTables): string[] {
  return migrations.flatMap((m) => m.statements(dialect, tables));
}

/**
 * Applies the migrations not yet recorded in the `<prefix>migrations` table.
 * Idempotent: every statement is `IF NOT EXISTS`, and concurrent callers are
 * kept apart by the dialect's migration lock where it has one.
 * Returns the names it applied.
 *
 * @example
 * await runMigrations(db, sqliteDialect, resolveTables());
 */
export async function runMigrations(db: AnyDb, dialect: MessageboxDialect, tables: MessageboxTables): Promise<string[]> {
  const run = async (conn: AnyDb) => {
    for (const statement of dialect.createMigrationsTable(tables)) await sql.raw(statement).execute(conn);
    const done = new Set((await conn.selectFrom(tables.migrationsRef).select('name').execute()).map((r) => r.name as string));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      for (const statement of migration.statements(dialect, tables)) await sql.raw(statement).execute(conn);
      await dialect.insertIfAbsent(conn, tables.migrationsRef, { name: migration.name, applied_at: Date.now() });
      applied.push(migration.name);
    }
    return applied;
  };
  return dialect.withMigrationLock ? dialect.withMigrationLock(db, run) : run(db);
}
