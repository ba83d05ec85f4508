import { MessageboxError } from '@messagebox/core';
import { joinedTransaction } from '@messagebox/kysely';
import { SqliteDialect, type SqliteDatabase, type Transaction } from 'kysely';

/** better-sqlite3's `Database`: what Kysely's SQLite driver talks to, with its `inTransaction` flag. */
export interface SqliteTransactionDatabase {
  readonly inTransaction: boolean;
  prepare: SqliteDatabase['prepare'];
}

/**
 * Joins messagebox to a SQLite transaction you opened yourself on a
 * better-sqlite3 `Database` (`db.exec('BEGIN IMMEDIATE')` … `db.exec('COMMIT')`):
 * pass what it returns to `outbox.add`. The message exists when you commit,
 * never after a rollback; nothing here begins, commits or closes. Each
 * statement checks `db.inTransaction` first and rejects (writing nothing)
 * when no transaction is open. After your commit, call
 * `outbox.deliver([message])` to send at once, or leave it to the worker.
 *
 * better-sqlite3's own `db.transaction(fn)` runs `fn` synchronously, so it
 * cannot await `outbox.add`: open the transaction with `exec` instead. Give
 * the storage (`createSqliteStorage`) a Kysely on a *different* `Database`
 * to the same file: SQLite has one transaction per connection, and the
 * worker's statements must not run inside yours.
 *
 * @example
 * app.exec('BEGIN IMMEDIATE');
 * try {
 *   app.prepare('insert into payment (id, amount) values (?, ?)').run(id, amount);
 *   const message = await outbox.add(sqliteTransaction(app), { type: 'payment.created', payload: { id, amount } });
 *   app.exec('COMMIT');
 *   await outbox.deliver([message]);
 * } catch (error) {
 *   if (app.inTransaction) app.exec('ROLLBACK');
 *   throw error;
 * }
 */
export function sqliteTransaction<DB = any>(database: SqliteTransactionDatabase): Transaction<DB> {
  if (database === null || typeof database !== 'object' || typeof database.prepare !== 'function' || typeof database.inTransaction !== 'boolean') {
    throw new MessageboxError('invalid_options', `[messagebox] sqliteTransaction needs the better-sqlite3 Database your transaction runs on, got ${database === null ? 'null' : typeof database}`);
  }
  return joinedTransaction<DB>(database, () => {
    const checked: SqliteDatabase = {
      prepare(sql) {
        if (!database.inTransaction) {
          throw new MessageboxError('invalid_options', '[messagebox] sqliteTransaction: no transaction is open on this Database (run BEGIN first); nothing was written');
        }
        return database.prepare(sql);
      },
      close() {},
    };
    return new SqliteDialect({ database: checked });
  });
}
