import type Database from 'better-sqlite3';
import type pg from 'pg';

/** Statements a process sent to its database, by kind. */
export interface StatementCounts {
  /** Everything, transaction control included. */
  total: number;
  begin: number;
  commit: number;
  rollback: number;
  /** `savepoint` / `release savepoint` / `rollback to savepoint`. */
  savepoint: number;
  /** Transactions: every BEGIN, plus every statement run outside one (autocommit). */
  transactions: number;
}

export const emptyCounts = (): StatementCounts => ({ total: 0, begin: 0, commit: 0, rollback: 0, savepoint: 0, transactions: 0 });

export function subtractCounts(after: StatementCounts, before: StatementCounts): StatementCounts {
  return {
    total: after.total - before.total,
    begin: after.begin - before.begin,
    commit: after.commit - before.commit,
    rollback: after.rollback - before.rollback,
    savepoint: after.savepoint - before.savepoint,
    transactions: after.transactions - before.transactions,
  };
}

export function addCounts(a: StatementCounts, b: StatementCounts): StatementCounts {
  return {
    total: a.total + b.total,
    begin: a.begin + b.begin,
    commit: a.commit + b.commit,
    rollback: a.rollback + b.rollback,
    savepoint: a.savepoint + b.savepoint,
    transactions: a.transactions + b.transactions,
  };
}

/** Counts every statement text handed to the driver (what reaches the database, not an estimate). */
export class StatementCounter {
  readonly counts = emptyCounts();

  /** Counts one statement sent on a connection whose transaction state is `connection` (one object per connection). */
  record(sql: unknown, connection: { inTransaction: boolean }): void {
    const text = typeof sql === 'string' ? sql : typeof (sql as { text?: unknown })?.text === 'string' ? (sql as { text: string }).text : '';
    const head = text.trimStart().slice(0, 24).toLowerCase();
    this.counts.total++;
    if (head.startsWith('begin') || head.startsWith('start transaction')) {
      this.counts.begin++;
      this.counts.transactions++;
      connection.inTransaction = true;
    } else if (head.startsWith('commit')) {
      this.counts.commit++;
      connection.inTransaction = false;
    } else if (head.startsWith('rollback to') || head.startsWith('savepoint') || head.startsWith('release')) this.counts.savepoint++;
    else if (head.startsWith('rollback')) {
      this.counts.rollback++;
      connection.inTransaction = false;
    } else if (!connection.inTransaction) this.counts.transactions++;
  }

  snapshot(): StatementCounts {
    return { ...this.counts };
  }

  /** Wraps `query` of every client the pool creates (Kysely's PostgresDriver sends everything through it). */
  watchPool(pool: pg.Pool): pg.Pool {
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      const connection = { inTransaction: false };
      (client as { query: unknown }).query = (...args: unknown[]) => {
        this.record(args[0], connection);
        return query(...args);
      };
    });
    return pool;
  }

  /** Wraps `prepare` (Kysely's SqliteDriver prepares every statement it runs, BEGIN and COMMIT included). */
  watchSqlite(database: Database.Database): Database.Database {
    const prepare = database.prepare.bind(database);
    const connection = { inTransaction: false };
    (database as { prepare: unknown }).prepare = (source: string) => {
      this.record(source, connection);
      return prepare(source);
    };
    return database;
  }
}
