import type { AnyDb, MessageboxTables } from '@messagebox/kysely';
import { sql } from 'kysely';

/** The NOTIFY channel of an outbox table (Postgres identifiers are at most 63 bytes). */
export function outboxChannel(tables: MessageboxTables): string {
  return tables.outboxRef.slice(0, 63);
}

/** `pg_notify` inside the caller's transaction: Postgres delivers it at commit, never on rollback. */
export async function notifyOutbox(tx: AnyDb, tables: MessageboxTables): Promise<void> {
  await sql`select pg_notify(${outboxChannel(tables)}, '')`.execute(tx);
}
