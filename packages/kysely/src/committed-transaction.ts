import { MessageboxError } from '@messagebox/core';
import type { AnyDb, AnyTx, MessageboxDialect } from './dialect.js';
import { sql, type Kysely, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type Transaction, type UnknownRow } from 'kysely';

/**
 * Runs `fn` in a transaction of `db` that resolves only if it committed.
 *
 * A statement that fails inside a Postgres transaction aborts it, and its
 * COMMIT then silently becomes a ROLLBACK; Kysely before 0.28.19 resolves
 * anyway. When `fn` caught such an error and resolved, the after-commit path
 * would send messages that were never stored. So queries run through `tx`
 * are watched: when one did not return (it failed, or was only compiled) or
 * a raw statement rolled back (`ROLLBACK TO SAVEPOINT`), a
 * cheap `select 1` checks before COMMIT that the transaction still works,
 * and rejects when it is aborted. Transactions where every query returned
 * cost nothing extra. `begin` opens the transaction (a dialect's
 * `transaction` hook, e.g. SQLite's `BEGIN IMMEDIATE`; default
 * `db.transaction()`). `confirm`, run after that check, says whether the
 * transaction still holds what it wrote: MySQL/MariaDB roll the whole
 * transaction back on a deadlock, after which the session runs on in
 * autocommit and COMMIT succeeds, so only the missing rows tell.
 *
 * @example
 * await committedTransaction(db, async (tx) => {
 *   await tx.insertInto('payment').values(row).execute();
 *   await outboxStore.add(tx, [message]);
 * });
 */
export function committedTransaction<DB, T>(
  db: Kysely<DB>,
  fn: (tx: Transaction<DB>) => Promise<T>,
  begin: (db: Kysely<DB>, fn: (tx: Transaction<DB>) => Promise<T>) => Promise<T> = (conn, run) => conn.transaction().execute(run),
  confirm?: (tx: Transaction<DB>) => Promise<boolean>,
): Promise<T> {
  return begin(db, async (trx) => {
    const watcher = new UnansweredQueries();
    const result = await fn(trx.withPlugin(watcher));
    if (watcher.any) {
      try {
        await sql`select 1`.execute(trx);
      } catch (error) {
        throw new MessageboxError('store_failed', 'the transaction was rolled back, not committed: a statement in it failed (its error was caught) and the database aborted the transaction', {
          cause: error,
        });
      }
      if (confirm && !(await confirm(trx))) {
        throw new MessageboxError(
          'store_failed',
          'the transaction was rolled back, not committed: messages it added were undone before COMMIT (a failed statement whose error was caught, e.g. a deadlock, or a ROLLBACK TO SAVEPOINT past the add); add messages outside a savepoint you may roll back to',
        );
      }
    }
    return result;
  });
}

const ROLLBACK = /\brollback\b/i;
const SAVEPOINT = /\bsavepoint\b/i;

/** Tracks queries compiled through it that never returned a result, and raw statements that roll back (to a savepoint). */
class UnansweredQueries implements KyselyPlugin {
  readonly #open = new Set<unknown>();
  #rolledBack = false;
  /** A raw statement naming a savepoint ran: rows written from now on may be rolled back to it. */
  savepoint = false;

  get any(): boolean {
    return this.#open.size > 0 || this.#rolledBack;
  }

  /** A query run already compiled (see `StatementCache`), which no `transformQuery` saw: it too must return. */
  expect(queryId: unknown): void {
    this.#open.add(queryId);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.#open.add(args.queryId);
    if (args.node.kind === 'RawNode') {
      const text = args.node.sqlFragments.join(' ');
      if (ROLLBACK.test(text)) this.#rolledBack = true;
      if (SAVEPOINT.test(text)) this.savepoint = true;
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.#open.delete(args.queryId);
    return args.result;
  }
}

/**
 * Tells the transaction watcher of `conn` (when it is a store transaction)
 * about a query about to run already compiled, which it would otherwise not
 * see: if the query fails and the caller catches the error, COMMIT is still
 * checked.
 */
export function expectAnswer(conn: AnyDb, queryId: unknown): void {
  for (const plugin of conn.getExecutor().plugins) if (plugin instanceof UnansweredQueries) plugin.expect(queryId);
}

/**
 * True when `conn` is a store transaction in which a raw statement naming a
 * savepoint ran (`SAVEPOINT`, `ROLLBACK TO SAVEPOINT`): a row written from
 * then on may be rolled back to it, so it must be written at once, where
 * the database undoes it with the savepoint, not deferred to COMMIT.
 */
export function savepointOpened(conn: AnyDb): boolean {
  return conn.getExecutor().plugins.some((plugin) => plugin instanceof UnansweredQueries && plugin.savepoint);
}

/** How a store opens its transactions: the dialect's `transaction` hook (SQLite `BEGIN IMMEDIATE`), or Kysely's default when it has none. */
export function dialectBegin<DB, T>(dialect: MessageboxDialect): ((db: Kysely<DB>, fn: (tx: Transaction<DB>) => Promise<T>) => Promise<T>) | undefined {
  const begin = dialect.transaction;
  return begin && ((db, fn) => begin.call(dialect, db as unknown as AnyDb, fn as unknown as (tx: AnyTx) => Promise<T>) as Promise<T>);
}
