import type { Claim, InsertClaim, Message, OutboxStore } from '@messagebox/core';
import { sql, type Kysely, type Transaction } from 'kysely';

import { committedTransaction, dialectBegin, savepointOpened } from './committed-transaction.js';
import type { AnyDb, AtCommit, UpdateReturningIds } from './dialect.js';
import { groupClaims, ownedByGroups, type ClaimGroup } from './filters.js';
import { byWaitingOrder, messageColumns, toClaimedOutbox, toOutboxRecord } from './records.js';
import type { OutboxRow } from './schema.js';
import { chunks, createStoreContext, observedKeyedUpdate, type KyselyStoreOptions } from './store-context.js';
import { claimRows, countByStatus, sharedStoreMembers, type TableShape } from './shared-operations.js';
import { destinationStateMembers } from './destination-states.js';
import { assertKeysStorable, blockedKeyRows, ORDER_KEY } from './key-order.js';

const INSERT_CHUNK = 500;

/**
 * A new outbox row: the message's columns, then the rest, set one by one
 * (spreading them into a literal cost ~20 µs per row, a third of `add`'s
 * CPU on SQLite).
 */
function outboxRow(message: Message, now: unknown, lease: { claim_token: string | null; lease_until: unknown; attempts: number }): Record<string, unknown> {
  const row: Record<string, unknown> = messageColumns(message);
  row.status = 'pending';
  // A claimed row is due again when its lease ends: outside the due-index range claims scan, so they do not walk it.
  row.available_at = lease.lease_until ?? now;
  row.last_error = null;
  row.sent_at = null;
  row.claim_token = lease.claim_token;
  row.lease_until = lease.lease_until;
  row.attempts = lease.attempts;
  return row;
}

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
  const { db, dialect, tables, time, statements } = context;
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

  /** The COMMIT queue of each open `transaction()` whose dialect writes rows at COMMIT. */
  const commitStatementsOf = new WeakMap<object, AtCommit>();
  /**
   * Where rows of `batch` may be written at COMMIT: in a `transaction()` of
   * this store whose dialect can, for unkeyed messages only (a keyed add
   * reads the earlier rows of its key, which must be in the table), and not
   * after a savepoint (rolling back to it must undo the rows).
   */
  const deferrable = (tx: object, trx: AnyDb, batch: readonly Message[]): AtCommit | undefined => {
    const atCommit = commitStatementsOf.get(tx);
    if (!atCommit || savepointOpened(trx)) return undefined;
    return batch.every((message) => message.key === undefined) ? atCommit : undefined;
  };

  /** Marks the rows of the grouped claims sent. */
  const sentOf = ({ groups, set }: { groups: ClaimGroup[]; set: Record<string, unknown> }): UpdateReturningIds => ({
    table,
    where: (eb) => ownedByGroups(eb, groups, 'pending'),
    set,
  });

  const store: OutboxStore<Transaction<DB>> = {
    database: options.db,
    transaction: <T>(fn: (tx: Transaction<DB>) => Promise<T>) => {
      const claimed = new Map<string, number>();
      let atCommit: AtCommit | undefined;
      const begin = dialect.transactionWithCommitStatements
        ? (conn: Kysely<DB>, run: (tx: Transaction<DB>) => Promise<T>) =>
            dialect.transactionWithCommitStatements!<T>(conn as unknown as AnyDb, (tx, queue) => {
              atCommit = queue;
              return run(tx as unknown as Transaction<DB>);
            })
        : dialectBegin<DB, T>(dialect);
      return committedTransaction(
        options.db,
        (tx) => {
          claimedIn.set(tx, claimed);
          if (atCommit) commitStatementsOf.set(tx, atCommit);
          return fn(tx);
        },
        begin,
        (trx) => stillHeld(trx as unknown as AnyDb, claimed),
      );
    },

    async add(tx, messages: readonly Message[], opts?: { claim?: InsertClaim; unclaimed?: ReadonlySet<string> }) {
      if (messages.length === 0) return;
      assertKeysStorable(dialect, messages);
      const trx = tx as unknown as AnyDb;
      const claim = opts?.claim;
      const unclaimed = opts?.unclaimed;
      const free = { claim_token: null, lease_until: null, attempts: 0 };
      const held = claim ? { claim_token: claim.token, lease_until: time.plus(claim.leaseMs), attempts: 1 } : free;
      const leaseOf = (message: Message) => (unclaimed?.has(message.id) ? free : held);
      const batches = messages.length > INSERT_CHUNK ? chunks(messages, INSERT_CHUNK) : [messages];
      for (let i = 0; i < batches.length; i++) {
        const batch = batches[i]!;
        const rows = batch.map((message) => outboxRow(message, time.now(), leaseOf(message)));
        const wake = (!claim || (unclaimed?.size ?? 0) > 0) && i === batches.length - 1;
        let deferred = false;
        if (dialect.insertOutboxRows) {
          const atCommit = deferrable(tx as object, trx, batch);
          const reuse = { statements, key: 'outbox.add', input: rows, of: (r: Record<string, unknown>[]) => r };
          deferred = (await dialect.insertOutboxRows(trx, tables, rows, { wake, reuse, ...(atCommit ? { atCommit } : {}) })) === true;
        } else {
          await statements.execute(trx, 'outbox.add', rows, (conn, r) => conn.insertInto(table).values(r));
          if (wake) await dialect.afterAdd?.(trx, tables);
        }
        // Rows written at COMMIT cannot be undone before it: only those inserted now are checked there (see stillHeld).
        const claimed = claim && !deferred && claimedIn.get(tx as object);
        const heldHere = unclaimed ? batch.filter((message) => !unclaimed.has(message.id)).length : batch.length;
        if (claimed && heldHere) claimed.set(claim.token, (claimed.get(claim.token) ?? 0) + heldHere);
      }
    },

    async blockedKeys(tx, keys, opts) {
      const rows = await blockedKeyRows(tx as unknown as AnyDb, { table, waiting: 'pending', scope: [] }, keys.map((key) => ({ [ORDER_KEY]: key })), opts.deadKey);
      return rows.map((row) => row[ORDER_KEY]!);
    },

    async claimDue(opts) {
      if (opts.limit <= 0 || opts.ids?.length === 0 || opts.types?.length === 0) return [];
      const rows = await claimRows(context, shape, opts);
      return byWaitingOrder(rows as unknown as OutboxRow[], 'created_at').map(toClaimedOutbox);
    },

    async markSent(claims: readonly Claim[]) {
      if (claims.length === 0) return [];
      const input = { groups: groupClaims(claims), set: { status: 'sent', sent_at: time.now(), lease_until: null, claim_token: null } };
      return observedKeyedUpdate(context, table, claims.length, () => dialect.updateReturningIds(db, { ...sentOf(input), reuse: { statements, key: 'outbox.markSent', input, of: sentOf } }));
    },

    async stats() {
      const { count, oldestWaiting } = await countByStatus(context, shape);
      return { pending: count('pending'), sent: count('sent'), dead: count('dead'), oldestPendingAt: oldestWaiting };
    },

    ...sharedStoreMembers(context, shape, toOutboxRecord),
    ...(dialect.destinationStatesTable ? destinationStateMembers(db, tables, (fn) => store.transaction((tx) => fn(tx as unknown as AnyDb))) : {}),
  };

  const watch = dialect.watch;
  if (watch) store.watch = (onWake) => watch.call(dialect, tables, onWake);
  return store;
}
