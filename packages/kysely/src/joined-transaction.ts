import { Kysely, type Dialect, type Transaction } from 'kysely';

const joined = new WeakMap<object, Kysely<any>>();

/**
 * A Kysely handle whose every query runs on a connection that is already
 * inside a transaction the caller opened and will commit (`BEGIN` issued by
 * the caller's own driver, ORM or framework), for `outbox.add` and
 * `inbox` writes to join it. It never issues `BEGIN`, `COMMIT` or
 * `ROLLBACK` and never closes the connection. Typed as a `Transaction` so
 * that it fits the stores' `Tx`; do not call `.transaction()` on it. One
 * handle per `connection` (cached). The dialect packages wrap it:
 * `pgTransaction`, `mysqlTransaction`, `sqliteTransaction`.
 *
 * @example
 * const tx = joinedTransaction(client, () => new PostgresDialect({ pool: singleClientPool(client) }));
 * await outbox.add(tx, { type: 'payment.created', payload });
 */
export function joinedTransaction<DB>(connection: object, dialect: () => Dialect): Transaction<DB> {
  let db = joined.get(connection);
  if (!db) {
    db = new Kysely<any>({ dialect: dialect() });
    joined.set(connection, db);
  }
  return db as unknown as Transaction<DB>;
}
