import type { InboxKey, InboxStore, InsertClaim, Message } from '@messagebox/core';
import { sql, type Transaction } from 'kysely';

import type { AnyDb } from './dialect.js';
import { byDueOrder, messageColumns, toClaimedInbox, toInboxRecord } from './records.js';
import type { InboxRow } from './schema.js';
import { createStoreContext, type KyselyStoreOptions } from './store-context.js';
import { integer } from './time.js';
import { claimKeyIn } from './filters.js';
import { countByStatus, fencedUpdate, getRecord, sharedStoreMembers, type TableShape } from './shared-operations.js';

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

  return {
    transaction: (fn) => options.db.transaction().execute(fn),

    async receive(tx, message: Message, opts?: { claim?: InsertClaim }) {
      const claim = opts?.claim;
      return dialect.insertIfAbsent(tx as unknown as AnyDb, table, {
        ...messageColumns(message),
        status: 'received',
        received_at: time.now(),
        available_at: time.now(),
        last_error: null,
        processed_at: null,
        ...(claim ? { claim_token: claim.token, lease_until: time.plus(claim.leaseMs), attempts: 1 } : { claim_token: null, lease_until: null, attempts: 0 }),
      });
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

    async stats() {
      const { count, oldestWaiting } = await countByStatus(context, shape);
      return { received: count('received'), processed: count('processed'), dead: count('dead'), oldestPendingAt: oldestWaiting };
    },

    ...sharedStoreMembers(context, shape, toInboxRecord),

    get: (key: InboxKey) => getRecord(context, shape, { source: key?.source, id: key?.id }, toInboxRecord),
  };
}
