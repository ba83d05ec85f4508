import { MessageboxError } from '../errors.js';
import type { InboxStore } from '../ports/inbox-store.js';
import type { OutboxStore } from '../ports/outbox-store.js';

/**
 * The part of an outbox an inbox needs so that its handlers can publish
 * (`createInbox({ outbox })`); every {@link Outbox} is one.
 *
 * With it, each handler runs in `outbox.transaction()` instead of a bare
 * store transaction, so a message the handler adds with its `tx`
 * (`outbox.add(tx, …)`) is written already claimed and attempted right after
 * the handler's transaction commits (the same after-commit path, lease and
 * claim as any `outbox.transaction()`), and never when the handler fails:
 * its transaction rolls back with the message in it.
 *
 * The handler's transaction is then the outbox store's, and the inbox marks
 * the message processed in it: the outbox store and the inbox store must
 * share one database (build both from one storage, `createPostgresStorage(…)`
 * and the like). `createInbox` refuses an outbox whose store names another
 * database ({@link OutboxStore.database}) than the inbox store's; stores that
 * do not name theirs are not checked.
 *
 * @example
 * const storage = createPostgresStorage({ db, pool });
 * const outbox = createOutbox({ store: storage.outbox, source: 'ledger' }).configure('ledger.booked', { transport });
 * const inbox = createInbox({ store: storage.inbox, outbox })
 *   .on('payment.created', async (message, { tx }) => {
 *     await tx.insertInto('ledger').values({ id: message.id }).execute();
 *     await outbox.add(tx, { type: 'ledger.booked', payload: { id: message.id } }); // sent right after commit
 *   });
 */
export interface PublishingOutbox<Tx> {
  readonly store: OutboxStore<Tx>;
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

/** How the inbox opens a handler's transaction: through the outbox when it has one (so handlers publish after commit), else the inbox store's. */
export type HandlerTransaction<Tx> = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

/** The transaction handlers run in; throws `invalid_options` for an outbox that is not one, or whose store is on another database than `store`. */
export function handlerTransaction<Tx>(store: InboxStore<Tx>, outbox: PublishingOutbox<Tx> | undefined): HandlerTransaction<Tx> {
  if (outbox === undefined) return (fn) => store.transaction(fn);
  if (typeof outbox?.transaction !== 'function' || typeof outbox.store?.transaction !== 'function') {
    throw new MessageboxError('invalid_options', 'createInbox: `outbox` must be an outbox (createOutbox(…)), so that handlers can publish with their transaction');
  }
  const inboxDatabase = store.database;
  const outboxDatabase = outbox.store.database;
  if (inboxDatabase !== undefined && outboxDatabase !== undefined && inboxDatabase !== outboxDatabase) {
    throw new MessageboxError(
      'invalid_options',
      'createInbox: `outbox` uses another database (another Kysely instance) than the inbox store: a handler writes both in one transaction, so they must share one database (build both stores from one storage, e.g. createPostgresStorage({ db, pool }), or give them the same Kysely instance). To publish to an outbox elsewhere, leave `outbox` out and add with a transaction of that outbox (outbox.transaction()); it then commits on its own, apart from the handler',
    );
  }
  return (fn) => outbox.transaction(fn);
}
