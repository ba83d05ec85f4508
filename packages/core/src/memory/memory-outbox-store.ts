import { systemClock, type Clock } from '../clock.js';
import { MessageboxError } from '../errors.js';
import type { Message } from '../message.js';
import type { Claim, InsertClaim } from '../ports/claim.js';
import type { ClaimedOutboxMessage, DestinationRecord, OutboxRecord, OutboxStatus, OutboxStore } from '../ports/outbox-store.js';
import { MemoryTable, type MemoryRow } from './memory-table.js';
import { MemoryDatabase, type MemoryTransaction } from './memory-transaction.js';

export interface MemoryStoreOptions {
  /** Where store time comes from. Default: the system clock. */
  clock?: Clock;
  /** Share one database (one transaction at a time) between an outbox and an inbox store. */
  database?: MemoryDatabase;
}

/**
 * An {@link OutboxStore} in memory, for unit tests and for trying the API.
 * Nothing survives the process.
 *
 * @example
 * const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 'vault' });
 */
export function createMemoryOutboxStore(options: MemoryStoreOptions = {}): OutboxStore<MemoryTransaction> {
  const db = options.database ?? new MemoryDatabase();
  const table = new MemoryTable(options.clock ?? systemClock, { waiting: 'pending', finished: 'sent' });
  const wakers = new Set<() => void>();
  const destinations = new Map<string, DestinationRecord>();

  return {
    database: db,
    transaction: (fn) => db.transaction(fn),

    async add(tx: MemoryTransaction, messages: readonly Message[], opts?: { claim?: InsertClaim; unclaimed?: ReadonlySet<string> }) {
      for (const message of messages) {
        if (table.rows.has(message.id) || tx.stagedIds.has(message.id)) {
          throw new MessageboxError('store_failed', `an outbox message with id ${message.id} already exists`);
        }
        tx.stagedIds.add(message.id);
      }
      // Times (and an insert-time lease) count from the insert, as in the SQL stores, not from commit.
      // Listed, filtered (`before`) and aged by the message's own `createdAt`, as the SQL stores' `created_at`.
      const rows = messages.map((message) => table.newRow(message, opts?.unclaimed?.has(message.id) ? undefined : opts?.claim, message.createdAt.getTime()));
      for (const message of messages) if (message.key !== undefined) table.stagedOrder(tx).add(message.key);
      tx.onCommit(() => {
        for (const row of rows) table.rows.set(row.message.id, row);
        for (const wake of wakers) wake();
      });
    },

    blockedKeys: async (tx: MemoryTransaction, keys: readonly string[], opts) => [...table.blockedKeys(tx, keys, opts.deadKey)],

    async claimDue(opts) {
      const ids = opts.ids ? new Set(opts.ids) : undefined;
      const types = opts.types ? new Set(opts.types) : undefined;
      return table.claimDue(opts, (r) => (!ids || ids.has(r.message.id)) && (!types || types.has(r.message.type))).map((r) => ({ ...toRecord(r), token: r.token! }) as ClaimedOutboxMessage);
    },

    async markSent(claims: readonly Claim[]) {
      const marked: string[] = [];
      for (const claim of claims) {
        const row = table.owned(claim);
        if (!row) continue;
        table.finish(row);
        marked.push(claim.id);
      }
      return marked;
    },

    async stats() {
      const { byStatus, oldestWaiting } = table.counts();
      return { pending: byStatus.get('pending') ?? 0, sent: byStatus.get('sent') ?? 0, dead: byStatus.get('dead') ?? 0, oldestPendingAt: oldestWaiting };
    },

    ...table.sharedOperations(toRecord),

    async watch(onWake) {
      wakers.add(onWake);
      return async () => void wakers.delete(onWake);
    },

    async saveDestinationState(record) {
      destinations.set(JSON.stringify([record.destination, record.worker]), structuredClone(record));
    },

    async listDestinationStates() {
      return [...destinations.values()].map((r) => structuredClone(r)).sort((a, b) => a.destination.localeCompare(b.destination) || a.worker.localeCompare(b.worker));
    },

    async clearDestinationStates(worker) {
      let removed = 0;
      for (const [key, record] of destinations) if (record.worker === worker && destinations.delete(key)) removed++;
      return removed;
    },
  };
}

function toRecord(row: MemoryRow): OutboxRecord {
  return {
    ...structuredClone(row.message),
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    availableAt: new Date(row.availableAt),
    lastError: row.lastError,
    sentAt: row.status === 'sent' && row.finishedAt !== null ? new Date(row.finishedAt) : null,
    leaseUntil: row.leaseUntil === null ? null : new Date(row.leaseUntil),
  };
}
