import { MessageboxError } from '@messagebox/core';
import { joinedTransaction } from '@messagebox/kysely';
import { MysqlDialect, type Transaction } from 'kysely';

/** mysql2's callback `Connection`/`PoolConnection` (`mysql2`): what Kysely's MySQL driver talks to. */
export interface MysqlCallbackConnection {
  query(sql: string, values: unknown[], callback: (error: unknown, result: unknown) => void): unknown;
}

/** mysql2's promise connection (`mysql2/promise`): its `.connection` is the callback one. */
export interface MysqlPromiseConnection {
  connection: MysqlCallbackConnection;
}

/**
 * Joins messagebox to a MySQL/MariaDB transaction you opened yourself: give
 * it the mysql2 connection (callback or `mysql2/promise`) on which you ran
 * `START TRANSACTION` (or `beginTransaction()`), and pass what it returns to
 * `outbox.add`. The message exists when you commit, never after a rollback;
 * nothing here begins, commits or releases. After your commit, call
 * `outbox.deliver([message])` to send at once, or leave it to the worker.
 * It does not check that a transaction is open.
 *
 * @example
 * const connection = await pool.getConnection(); // mysql2/promise
 * await connection.beginTransaction();
 * await connection.query('insert into payment (id, amount) values (?, ?)', [id, amount]);
 * const message = await outbox.add(mysqlTransaction(connection), { type: 'payment.created', payload: { id, amount } });
 * await connection.commit();
 * connection.release();
 * await outbox.deliver([message]);
 */
export function mysqlTransaction<DB = any>(connection: MysqlCallbackConnection | MysqlPromiseConnection): Transaction<DB> {
  const raw = callbackConnection(connection);
  return joinedTransaction<DB>(raw, () => {
    const joined = { query: raw.query.bind(raw), release() {} };
    const pool = { getConnection: (callback: (error: unknown, connection: unknown) => void) => callback(null, joined), end: (callback: (error: unknown) => void) => callback(null) };
    return new MysqlDialect({ pool: pool as never });
  });
}

function callbackConnection(connection: MysqlCallbackConnection | MysqlPromiseConnection): MysqlCallbackConnection {
  const inner = (connection as MysqlPromiseConnection | null)?.connection;
  if (inner && typeof inner.query === 'function') return inner;
  if (connection && typeof (connection as MysqlCallbackConnection).query === 'function') return connection as MysqlCallbackConnection;
  throw new MessageboxError(
    'invalid_options',
    `[messagebox] mysqlTransaction needs the mysql2 connection your transaction runs on (from mysql2 or mysql2/promise), got ${connection === null ? 'null' : typeof connection}`,
  );
}
