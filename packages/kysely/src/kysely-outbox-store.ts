import type { Claim, InsertClaim, Message, OutboxStore } from '@messagebox/core';
import { sql, type Transaction } from 'kysely';

import { committedTransaction, dialectBegin } from './committed-transaction.js';
import type { AnyDb } from './dialect.js';
import { claimKeyIn, ownedBy } from './filters.js';
import { byDueOrder, messageColumns, toClaimedOutbox, toOutboxRecord } from './records.js';
import type { OutboxRow } from './schema.js';
import { chunks, createStoreContext, type KyselyStoreOptions } from './store-context.js';
import { integer } from './time.js';
import { countByStatus, sharedStoreMembers, type TableShape } from './shared-operations.js';

const INSERT_CHUNK = 500;

/**
 * An {@link OutboxStore} on the caller's Kysely instance. Dialect packages
 * wrap it (`createSqliteStorage`, `createPostgresStorage`, `createMysqlStorage`);
 * use it directly only with a dialect of your own.
 *
 * @example
 * const outbox = createKyselyOutboxStore({ db, dialect: sqliteDialect });
 * await outbox.transaction((tx) => outbox.add(tx, [message]));
 */
export function createKyselyOutboxStore<DB>(options: KyselyStoreOptions<DB>): OutboxStore<Transaction<DB>> {
  const context = createStoreContext(options);
  const { db, dialect, tables, time } = context;
  const table = tables.outboxRef;
  const shape: TableShape = { table, waiting: 'pending', finished: 'sent', finishedAt: 'sent_at', waitingSince: 'created_at' };

  /** Rows each open `transaction()` wrote already claimed, by claim token: they must still be there at COMMIT. */
  const claimedIn = new WeakMap<object, Map<string, number>>();
  /** True when every row the transaction wrote claimed is still in it (a deadlock on MySQL rolls them back and lets COMMIT succeed). */
  const stillHeld = async (trx: AnyDb, claimed: Map<string, number>) => {
    if (claimed.size === 0) return true;
    const tokens = [...claimed.keys()];
    const row = await trx.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('status', '=', sql.lit('pending')).where('claim_token', 'in', tokens).executeTakeFirst();
    return Number(row?.n ?? 0) === [...claimed.values()].reduce((a, b) => a + b, 0);
  };

  const store: OutboxStore<Transaction<DB>> = {
    transaction: (fn) => {
      const claimed = new Map<string, number>();
      return committedTransaction(
        options.db,
        (tx) => {
          claimedIn.set(tx, claimed);
          return fn(tx);
        },
        dialectBegin(dialect),
        (trx) => stillHeld(trx as unknown as AnyDb, claimed),
      );
    },

    async add(tx, messages: readonly Message[], opts?: { claim?: InsertClaim }) {
      if (messages.length === 0) return;
      const trx = tx as unknown as AnyDb;
      const claim = opts?.claim;
      const lease = claim ? { claim_token: claim.token, lease_until: time.plus(claim.leaseMs), attempts: 1 } : { claim_token: null, lease_until: null, attempts: 0 };
      const batches = chunks(messages, INSERT_CHUNK);
      for (const [i, batch] of batches.entries()) {
        const rows = batch.map((message) => ({
          ...messageColumns(message),
          status: 'pending',
          available_at: time.now(),
          last_error: null,
          sent_at: null,
          ...lease,
        }));
        const wake = !claim && i === batches.length - 1;
        if (dialect.insertOutboxRows) {
          await dialect.insertOutboxRows(trx, tables, rows, { wake });
        } else {
          await trx.insertInto(table).values(rows).execute();
          if (wake) await dialect.afterAdd?.(trx, tables);
        }
        const claimed = claim && claimedIn.get(tx as object);
        if (claimed) claimed.set(claim.token, (claimed.get(claim.token) ?? 0) + batch.length);
      }
    },

    async claimDue(opts) {
      if (opts.limit <= 0 || opts.ids?.length === 0 || opts.types?.length === 0) return [];
      const rows = await dialect.claim(db, {
        table,
        limit: integer(opts.limit, 'limit'),
        candidates: (conn) =>
          conn
            .selectFrom(table)
            .select('id')
            .where('status', '=', sql.lit('pending'))
            .where('available_at', '<=', time.now())
            .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', time.now())]))
            .$if(opts.ids !== undefined, (qb) => qb.where('id', 'in', [...(opts.ids ?? [])]))
            .$if(opts.types !== undefined, (qb) => qb.where('type', 'in', [...(opts.types ?? [])])),
        set: { claim_token: opts.token, lease_until: time.plus(opts.leaseMs), attempts: sql`attempts + 1` },
        keyIn: claimKeyIn(),
      });
      return byDueOrder(rows as unknown as OutboxRow[]).map(toClaimedOutbox);
    },

    async markSent(claims: readonly Claim[]) {
      if (claims.length === 0) return [];
      return dialect.updateReturningIds(db, {
        table,
        where: (eb) => ownedBy(eb, claims, 'pending'),
        set: { status: 'sent', sent_at: time.now(), lease_until: null, claim_token: null },
      });
    },

    async stats() {
      const { count, oldestWaiting } = await countByStatus(context, shape);
      return { pending: count('pending'), sent: count('sent'), dead: count('dead'), oldestPendingAt: oldestWaiting };
    },

    ...sharedStoreMembers(context, shape, toOutboxRecord),
  };

  const watch = dialect.watch;
  if (watch) store.watch = (onWake) => watch.call(dialect, tables, onWake);
  return store;
}
