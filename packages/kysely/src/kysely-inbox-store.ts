import type { InboxClaim, InboxEntry, InboxKey, InboxStore, InsertClaim, Message } from '@messagebox/core';
import type { ExpressionBuilder, Transaction } from 'kysely';

import { committedTransaction, dialectBegin } from './committed-transaction.js';
import type { AnyDb, InsertManyIfAbsent, UpdateReturningKeys } from './dialect.js';
import { byWaitingOrder, messageColumns, toClaimedInbox, toInboxRecord } from './records.js';
import type { InboxRow } from './schema.js';
import { chunks, createStoreContext, observedKeyedUpdate, type KyselyStoreOptions } from './store-context.js';
import { groupClaims, keysIn, ownedByGroups, type ClaimGroup } from './filters.js';
import { updateKeysWithLockedSelect } from './shared-statements.js';
import { claimRows, countByStatus, getRecord, sharedStoreMembers, updateClaimed, type TableShape } from './shared-operations.js';
import { assertKeysStorable, blockedKeyRows, ORDER_KEY } from './key-order.js';

const INSERT_CHUNK = 500;
const KEY = ['source', 'id'] as const;
/** A row's key as one string (NUL never occurs in a stored source or id). */
const rowKey = (m: { source: string; id: string }) => `${m.source}\u0000${m.id}`;

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
  const { dialect, tables, time, statements } = context;
  const table = tables.inboxRef;
  const shape: TableShape = { table, waiting: 'received', finished: 'processed', finishedAt: 'processed_at', waitingSince: 'received_at', scope: ['source'] };

  const inboxRow = (message: Message, claim: InsertClaim | undefined) => {
    assertKeysStorable(dialect, [message]);
    return inboxColumns(message, claim);
  };
  /** The message's columns, then the rest, set one by one (see `messageColumns`: no spreading). */
  const inboxColumns = (message: Message, claim: InsertClaim | undefined) => {
    const row = messageColumns(message);
    const lease = claim && time.plus(claim.leaseMs);
    row.status = 'received';
    row.received_at = time.now();
    // A claimed row is due again when its lease ends: outside the due-index range claims scan, so they do not walk it.
    row.available_at = claim ? lease : time.now();
    row.last_error = null;
    row.processed_at = null;
    row.claim_token = claim ? claim.token : null;
    row.lease_until = claim ? lease : null;
    row.attempts = claim ? 1 : 0;
    return row;
  };

  const processed = () => ({ status: 'processed', processed_at: time.now(), lease_until: null, claim_token: null });
  /** Marks the rows of the grouped claims processed, returning their keys. */
  const markedOf = ({ groups, set }: { groups: ClaimGroup[]; set: Record<string, unknown> }): UpdateReturningKeys => ({
    table,
    keys: KEY,
    keyIn,
    where: (eb) => ownedByGroups(eb, groups, shape.waiting, shape.scope),
    set,
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
      const inserted = dialect.insertManyIfAbsent ? await dialect.insertManyIfAbsent(trx, insertRequest(rows)) : await insertOneByOne(trx, rows);
      for (const row of inserted) results[first.get(rowKey(row as { source: string; id: string }))!] = true;
    }
    return results;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const keyIn = (keys: readonly Record<string, unknown>[]) => (eb: ExpressionBuilder<any, any>) => keysIn(eb, keys, shape.scope);
  const requestOf = (rows: readonly Record<string, unknown>[]): InsertManyIfAbsent => ({ table, rows, key: KEY, keyIn });
  const insertRequest = (rows: readonly Record<string, unknown>[]): InsertManyIfAbsent => ({ ...requestOf(rows), reuse: { statements, key: 'inbox.receive', input: rows, of: requestOf } });
  const insertOne = (trx: AnyDb, row: Record<string, unknown>) => dialect.insertIfAbsent(trx, table, row, { statements, key: 'inbox.receive', input: row, of: (r: Record<string, unknown>) => r });

  async function insertOneByOne(trx: AnyDb, rows: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const inserted: Record<string, unknown>[] = [];
    for (const row of rows) if (await insertOne(trx, row)) inserted.push(row);
    return inserted;
  }

  return {
    database: options.db,
    transaction: (fn) => committedTransaction(options.db, fn, dialectBegin(dialect)),

    async receive(tx, message: Message, opts?: { claim?: InsertClaim }) {
      return insertOne(tx as unknown as AnyDb, inboxRow(message, opts?.claim));
    },

    async receiveMany(tx, entries: readonly InboxEntry[]) {
      return receiveMany(tx as unknown as AnyDb, entries);
    },

    async blockedKeys(tx, keys, opts) {
      const rows = await blockedKeyRows(tx as unknown as AnyDb, { table, waiting: 'received', scope: ['source'] }, keys.map((k) => ({ source: k.source, [ORDER_KEY]: k.key })), opts.deadKey);
      return rows.map((row) => ({ source: row.source!, key: row[ORDER_KEY]! }));
    },
    ...(dialect.insertManyIfAbsent && dialect.oneStatementInsertMany
      ? {
          // One statement, committed by the database on its own; more rows than one statement takes go in a transaction.
          receiveManyCommitted: (entries: readonly InboxEntry[]) =>
            entries.length <= INSERT_CHUNK ? receiveMany(options.db as unknown as AnyDb, entries) : committedTransaction(options.db, (tx) => receiveMany(tx as unknown as AnyDb, entries), dialectBegin(dialect)),
        }
      : {}),

    async claimDue(opts) {
      if (opts.limit <= 0 || opts.types?.length === 0) return [];
      const rows = await claimRows(context, shape, opts);
      return byWaitingOrder(rows as unknown as InboxRow[], 'received_at').map(toClaimedInbox);
    },

    markProcessed: (tx, claim) => updateClaimed(context, tx as unknown as AnyDb, shape, 'inbox.markProcessed', claim, processed()),

    async markProcessedMany(tx, claims: readonly InboxClaim[]) {
      if (claims.length === 0) return [];
      const update = dialect.updateReturningKeys ?? updateKeysWithLockedSelect;
      const input = { groups: groupClaims(claims, shape.scope), set: processed() };
      const marked = await observedKeyedUpdate(context, table, claims.length, () =>
        update(tx as unknown as AnyDb, { ...markedOf(input), reuse: { statements, key: 'inbox.markProcessedMany', input, of: markedOf } }),
      );
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
