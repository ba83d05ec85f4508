import type { DestinationRecord, OutboxStore } from '@messagebox/core';
import type { AnyDb } from './dialect.js';
import type { MessageboxTables } from './tables.js';

/**
 * The outbox store's destination-state members (`messagebox status` reads
 * circuit breakers from them), on the table of migration
 * `0006_destination_states`. Written only on breaker transitions and busy
 * pauses, so plain statements: a delete and an insert in one transaction.
 */
export function destinationStateMembers(
  db: AnyDb,
  tables: MessageboxTables,
  /** The store's own transaction (the dialect's BEGIN: `BEGIN IMMEDIATE` on SQLite). */
  transaction: (fn: (trx: AnyDb) => Promise<void>) => Promise<void>,
): Required<Pick<OutboxStore<unknown>, 'saveDestinationState' | 'listDestinationStates' | 'clearDestinationStates'>> {
  const table = tables.destinationsRef;
  return {
    async saveDestinationState(record: DestinationRecord) {
      const row = {
        destination: record.destination,
        worker: record.worker,
        breaker: record.breaker,
        consecutive_failures: record.consecutiveFailures,
        open_until: record.openUntil?.getTime() ?? null,
        paused_until: record.pausedUntil?.getTime() ?? null,
        updated_at: record.updatedAt.getTime(),
      };
      await transaction(async (trx) => {
        await trx.deleteFrom(table).where('destination', '=', record.destination).where('worker', '=', record.worker).execute();
        await trx.insertInto(table).values(row).execute();
      });
    },

    async listDestinationStates() {
      const rows = await db.selectFrom(table).selectAll().orderBy('destination').orderBy('worker').execute();
      return rows.map((row: Record<string, unknown>) => ({
        destination: String(row['destination']),
        worker: String(row['worker']),
        breaker: String(row['breaker']) as DestinationRecord['breaker'],
        consecutiveFailures: Number(row['consecutive_failures']),
        openUntil: row['open_until'] == null ? null : new Date(Number(row['open_until'])),
        pausedUntil: row['paused_until'] == null ? null : new Date(Number(row['paused_until'])),
        updatedAt: new Date(Number(row['updated_at'])),
      }));
    },

    async clearDestinationStates(worker: string) {
      const result = await db.deleteFrom(table).where('worker', '=', worker).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
