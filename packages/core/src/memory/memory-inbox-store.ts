import { systemClock } from '../clock.js';
import { MessageboxError } from '../errors.js';
import type { Message } from '../message.js';
import type { InsertClaim } from '../ports/claim.js';
import type { InboxClaim, InboxEntry, InboxKey, InboxOrderingKey, InboxRecord, InboxStatus, InboxStore } from '../ports/inbox-store.js';
import { MemoryTable, type MemoryKeyed, type MemoryRow } from './memory-table.js';
import { MemoryDatabase, type MemoryTransaction } from './memory-transaction.js';
import type { MemoryStoreOptions } from './memory-outbox-store.js';

/**
 * An {@link InboxStore} in memory, for unit tests and for trying the API.
 *
 * @example
 * const inbox = createInbox({ store: createMemoryInboxStore() });
 */
export function createMemoryInboxStore(options: MemoryStoreOptions = {}): InboxStore<MemoryTransaction> {
  const db = options.database ?? new MemoryDatabase();
  const table = new MemoryTable(options.clock ?? systemClock, { waiting: 'received', finished: 'processed' }, inboxKey, (message) => (message.key === undefined ? undefined : orderName(message.source, message.key)));

  function receiveOne(tx: MemoryTransaction, message: Message, claim: InsertClaim | undefined): boolean {
    const key = inboxKey(message);
    const staged = table.stagedKeys(tx);
    if (table.rows.has(key) || staged.has(key)) return false;
    staged.add(key);
    if (message.key !== undefined) table.stagedOrder(tx).add(orderName(message.source, message.key));
    tx.onCommit(() => table.rows.set(key, table.newRow(message, claim)));
    return true;
  }

  function markOne(tx: MemoryTransaction, claim: InboxClaim): boolean {
    // Either the claim owns the row now, or this transaction inserts it (already claimed) at commit.
    const key = inboxKey(claim);
    const insertedHere = () => table.stagedKeys(tx).has(key) && !table.rows.has(key);
    if (!table.owned(claim) && !insertedHere()) return false;
    tx.checks.push(() => {
      if (!table.owned(claim) && !insertedHere()) {
        throw new MessageboxError('lease_lost', `inbox message ${claim.id} from ${claim.source} was claimed by another worker before commit`);
      }
    });
    tx.onCommit(() => table.finish(table.owned(claim)!));
    return true;
  }

  return {
    database: db,
    transaction: (fn) => db.transaction(fn),

    receive: async (tx: MemoryTransaction, message: Message, opts?: { claim?: InsertClaim }) => receiveOne(tx, message, opts?.claim),

    receiveMany: async (tx: MemoryTransaction, entries: readonly InboxEntry[]) => entries.map((entry) => receiveOne(tx, entry.message, entry.claim)),

    async blockedKeys(tx: MemoryTransaction, keys: readonly InboxOrderingKey[], opts) {
      const blocked = table.blockedKeys(tx, keys.map((k) => orderName(k.source, k.key)), opts.deadKey);
      return keys.filter((k) => blocked.has(orderName(k.source, k.key)));
    },

    async claimDue(opts) {
      const types = opts.types ? new Set(opts.types) : undefined;
      return table.claimDue(opts, (r) => !types || types.has(r.message.type)).map((r) => ({ ...toRecord(r), token: r.token! }));
    },

    markProcessed: async (tx: MemoryTransaction, claim: InboxClaim) => markOne(tx, claim),

    async markProcessedMany(tx: MemoryTransaction, claims: readonly InboxClaim[]) {
      const seen = new Set<string>();
      const marked: InboxKey[] = [];
      for (const claim of claims) {
        const key = inboxKey(claim);
        if (seen.has(key)) continue;
        seen.add(key);
        if (markOne(tx, claim)) marked.push({ source: claim.source, id: claim.id });
      }
      return marked;
    },

    async stats() {
      const { byStatus, oldestWaiting } = table.counts();
      return { received: byStatus.get('received') ?? 0, processed: byStatus.get('processed') ?? 0, dead: byStatus.get('dead') ?? 0, oldestPendingAt: oldestWaiting };
    },

    ...table.sharedOperations(toRecord),

    get: async (key: InboxKey) => table.getRecord(key, toRecord),
  };
}

/** An ordering key's name in the inbox, where it is scoped by its sender's `source`. */
const orderName = (source: string, key: string) => JSON.stringify([source, key]);

/** An inbox row's key: `(source, id)`. A claim without a source names no row of the inbox. */
function inboxKey(keyed: MemoryKeyed): string {
  if (typeof keyed?.source !== 'string') {
    throw new MessageboxError('invalid_options', `an inbox claim or key needs the message's source as well as its id (id ${String(keyed?.id)})`);
  }
  return JSON.stringify([keyed.source, keyed.id]);
}

function toRecord(row: MemoryRow): InboxRecord {
  return {
    ...structuredClone(row.message),
    status: row.status as InboxStatus,
    attempts: row.attempts,
    receivedAt: new Date(row.createdAt),
    availableAt: new Date(row.availableAt),
    lastError: row.lastError,
    processedAt: row.status === 'processed' && row.finishedAt !== null ? new Date(row.finishedAt) : null,
    leaseUntil: row.leaseUntil === null ? null : new Date(row.leaseUntil),
  };
}
