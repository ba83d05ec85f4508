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
  { name: '0002_inbox_identity_source_id', statements: (dialect, tables) => dialect.inboxIdentityMigration?.(tables) ?? [] },
  { name: '0003_mysql_claim_order', statements: (dialect, tables) => dialect.claimOrderIndexes?.(tables) ?? [] },
  { name: '0004_operations_indexes', statements: (dialect, tables) => dialect.operationsIndexes?.(tables) ?? [] },
  { name: '0005_ordering_keys', statements: (dialect, tables) => dialect.keyOrderMigration?.(tables) ?? [] },
  { name: '0006_destination_states', statements: (dialect, tables) => dialect.destinationStatesTable?.(tables) ?? [] },
];

/** The DDL of every migration, for users who run their own migration tool. */
export function migrationSql(dialect: MessageboxDialect, tables: MessageboxTables): string[] {
  return migrations.flatMap((m) => m.statements(dialect, tables));
}

/**
 * Applies the migrations not yet recorded in the `<prefix>migrations` table.
 * Idempotent: every statement is `IF NOT EXISTS`, and concurrent callers are
 * kept apart by the dialect's migration lock where it has one. Each migration
 * and its record run in one transaction (inside the lock's own transaction
 * where it has one), so where DDL is transactional (Postgres, SQLite) a
 * migration is applied whole or not at all.
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
      await inTransaction(conn, async (trx) => {
        for (const statement of migration.statements(dialect, tables)) await runStatement(trx, dialect, statement);
        await dialect.insertIfAbsent(trx, tables.migrationsRef, { name: migration.name, applied_at: Date.now() });
      });
      applied.push(migration.name);
    }
    return applied;
  };
  return dialect.withMigrationLock ? dialect.withMigrationLock(db, run) : run(db);
}

/** Runs `fn` in a transaction of `conn`, or directly when `conn` is one already. */
function inTransaction(conn: AnyDb, fn: (trx: AnyDb) => Promise<void>): Promise<void> {
  return conn.isTransaction ? fn(conn) : conn.transaction().execute(fn);
}

/** Runs one migration statement; one that failed only because its change is there already (see `isAlreadyApplied`) counts as done. */
async function runStatement(trx: AnyDb, dialect: MessageboxDialect, statement: string): Promise<void> {
  try {
    await sql.raw(statement).execute(trx);
  } catch (error) {
    if (!dialect.isAlreadyApplied?.(error)) throw error;
  }
}
