import type { InboxClaim, InboxEntry, InboxKey, InboxStore, InsertClaim, Message } from '@messagebox/core';
import { sql, type Transaction } from 'kysely';

import { committedTransaction, dialectBegin } from './committed-transaction.js';
import type { AnyDb } from './dialect.js';
import { byDueOrder, messageColumns, toClaimedInbox, toInboxRecord } from './records.js';
import type { InboxRow } from './schema.js';
import { chunks, createStoreContext, type KyselyStoreOptions } from './store-context.js';
import { integer } from './time.js';
import { claimKeyIn, keysIn, ownedBy } from './filters.js';
import { updateKeysWithLockedSelect } from './shared-statements.js';
import { countByStatus, fencedUpdate, getRecord, sharedStoreMembers, type TableShape } from './shared-operations.js';

const INSERT_CHUNK = 500;
const KEY = ['source', 'id'] as const;
const rowKey = (m: { source: string; id: string }) => JSON.stringify([m.source, m.id]);

/**
 * An {@link InboxStore} on the caller's Kysely instance; see
 * {@link createKyselyOutboxStore} for when to use it directly.
 *
 * @example
 * const inbox = createKyselyInboxStore({ db, dialect: sqliteDialect });
 * const isNew = await inbox.transaction((tx) => inbox.receive(tx, message));
 */
export function createKyselyInboxStore<DB>(options: KyselyStoreOptions<DB>): InboxStore<Transaction<DB>> {
  const context = createStoreContext(options);
  const { db, dialect, tables, time } = context;
  const table = tables.inboxRef;
  const shape: TableShape = { table, waiting: 'received', finished: 'processed', finishedAt: 'processed_at', waitingSince: 'received_at', scope: ['source'] };

  const inboxRow = (message: Message, claim: InsertClaim | undefined) => ({
    ...messageColumns(message),
    status: 'received',
    received_at: time.now(),
    available_at: time.now(),
    last_error: null,
    processed_at: null,
    ...(claim ? { claim_token: claim.token, lease_until: time.plus(claim.leaseMs), attempts: 1 } : { claim_token: null, lease_until: null, attempts: 0 }),
  });

  /**
   * One multi-row insert-if-absent per chunk, rows in key order (so
   * concurrent batches wait for each other's keys in the same order); an
   * entry repeating an earlier entry's key is a duplicate without a row.
   */
  async function receiveMany(trx: AnyDb, entries: readonly InboxEntry[]): Promise<boolean[]> {
    const results = entries.map(() => false);
    const first = new Map<string, number>();
    entries.forEach((entry, i) => {
      const key = rowKey(entry.message);
      if (!first.has(key)) first.set(key, i);
    });
    if (first.size === 0) return results;
    const order = [...first].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const batch of chunks(order, INSERT_CHUNK)) {
      const rows = batch.map(([, i]) => inboxRow(entries[i]!.message, entries[i]!.claim));
      const inserted = dialect.insertManyIfAbsent
        ? await dialect.insertManyIfAbsent(trx, { table, rows, key: KEY, keyIn: (keys) => (eb) => keysIn(eb, keys, shape.scope) })
        : await insertOneByOne(trx, rows);
      for (const row of inserted) results[first.get(rowKey(row as { source: string; id: string }))!] = true;
    }
    return results;
  }

  async function insertOneByOne(trx: AnyDb, rows: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const inserted: Record<string, unknown>[] = [];
    for (const row of rows) if (await dialect.insertIfAbsent(trx, table, row)) inserted.push(row);
    return inserted;
  }

  return {
    transaction: (fn) => committedTransaction(options.db, fn, dialectBegin(dialect)),

    async receive(tx, message: Message, opts?: { claim?: InsertClaim }) {
      return dialect.insertIfAbsent(tx as unknown as AnyDb, table, inboxRow(message, opts?.claim));
    },

    async receiveMany(tx, entries: readonly InboxEntry[]) {
      return receiveMany(tx as unknown as AnyDb, entries);
    },

    async claimDue(opts) {
      if (opts.limit <= 0 || opts.types?.length === 0) return [];
      const rows = await dialect.claim(db, {
        table,
        limit: integer(opts.limit, 'limit'),
        candidates: (conn) =>
          conn
            .selectFrom(table)
            .select(['source', 'id'])
            .where('status', '=', sql.lit('received'))
            .where('available_at', '<=', time.now())
            .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', time.now())]))
            .$if(opts.types !== undefined, (qb) => qb.where('type', 'in', [...(opts.types ?? [])])),
        set: { claim_token: opts.token, lease_until: time.plus(opts.leaseMs), attempts: sql`attempts + 1` },
        keyIn: claimKeyIn(shape.scope),
      });
      return byDueOrder(rows as unknown as InboxRow[]).map(toClaimedInbox);
    },

    async markProcessed(tx, claim) {
      const result = await fencedUpdate(tx as unknown as AnyDb, shape, claim)
        .set({ status: 'processed', processed_at: time.now(), lease_until: null, claim_token: null })
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async markProcessedMany(tx, claims: readonly InboxClaim[]) {
      if (claims.length === 0) return [];
      const update = dialect.updateReturningKeys ?? updateKeysWithLockedSelect;
      const marked = await update(tx as unknown as AnyDb, {
        table,
        keys: KEY,
        keyIn: (rows) => (eb) => keysIn(eb, rows, shape.scope),
        where: (eb) => ownedBy(eb, claims, shape.waiting, shape.scope),
        set: { status: 'processed', processed_at: time.now(), lease_until: null, claim_token: null },
      });
      return marked.map((row) => ({ source: row.source as string, id: row.id as string }));
    },

    async stats() {
      const { count, oldestWaiting } = await countByStatus(context, shape);
      return { received: count('received'), processed: count('processed'), dead: count('dead'), oldestPendingAt: oldestWaiting };
    },

    ...sharedStoreMembers(context, shape, toInboxRecord),

    get: (key: InboxKey) => getRecord(context, shape, { source: key?.source, id: key?.id }, toInboxRecord),
  };
}
