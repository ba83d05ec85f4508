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
  /**
   * The inbox's receive path: every statement of a transaction that inserts
   * into the inbox and runs no handler (BEGIN and COMMIT included); in a
   * transaction that does both (inline mode), the inbox inserts alone.
   */
  receive: number;
  /**
   * The inbox's handle path: the rest of every transaction that runs a
   * handler or marks inbox rows (BEGIN, the handler's statements, the
   * processed mark, COMMIT), and every statement on the inbox table outside
   * a transaction (claims, releases).
   */
  handle: number;
  /** Of `handle`: the benchmark handler's own statements (on `bench_handled`). */
  handler: number;
}

export const emptyCounts = (): StatementCounts => ({ total: 0, begin: 0, commit: 0, rollback: 0, savepoint: 0, transactions: 0, receive: 0, handle: 0, handler: 0 });

const combine = (a: StatementCounts, b: StatementCounts, sign: 1 | -1): StatementCounts => {
  const out = emptyCounts();
  for (const key of Object.keys(out) as (keyof StatementCounts)[]) out[key] = (a[key] ?? 0) + sign * (b[key] ?? 0);
  return out;
};

export const subtractCounts = (after: StatementCounts, before: StatementCounts): StatementCounts => combine(after, before, -1);

export const addCounts = (a: StatementCounts, b: StatementCounts): StatementCounts => combine(a, b, 1);

/** What the counter knows of one connection: whether it is in a transaction, and what that transaction did so far. */
export interface ConnectionState {
  inTransaction: boolean;
  statements?: number;
  inboxInserts?: number;
  handles?: boolean;
}

const INBOX = /inbox"/;
const HANDLER = 'bench_handled';
/** The end of a query that carries statements to run with its COMMIT (see `transactionWithCommitStatements`). */
const AT_COMMIT = /;\n\s*commit\s*$/i;

/** Counts every statement text handed to the driver (what reaches the database, not an estimate). */
export class StatementCounter {
  readonly counts = emptyCounts();

  /** Counts one statement sent on a connection whose state is `connection` (one object per connection). */
  record(sql: unknown, connection: ConnectionState): void {
    const text = typeof sql === 'string' ? sql : typeof (sql as { text?: unknown })?.text === 'string' ? (sql as { text: string }).text : '';
    // Statements sent with COMMIT in one query (Postgres' simple protocol: `UPDATE …;\ncommit`) count as what they are: each, then the COMMIT.
    const atCommit = AT_COMMIT.exec(text);
    if (atCommit) {
      for (const statement of text.slice(0, atCommit.index).split(';\n')) this.record(statement, connection);
      this.record('commit', connection);
      return;
    }
    const head = text.trimStart().slice(0, 120).toLowerCase();
    const counts = this.counts;
    counts.total++;
    if (head.includes(HANDLER)) counts.handler++;
    if (head.startsWith('begin') || head.startsWith('start transaction')) {
      counts.begin++;
      counts.transactions++;
      Object.assign(connection, { inTransaction: true, statements: 1, inboxInserts: 0, handles: false });
      return;
    }
    if (!connection.inTransaction) {
      counts.transactions++;
      // A receive committed on its own (one INSERT, no BEGIN/COMMIT) is the receive path; claims and releases the handle path.
      if (INBOX.test(head)) counts[head.startsWith('insert into') ? 'receive' : 'handle']++;
      return;
    }
    connection.statements = (connection.statements ?? 0) + 1;
    if (head.startsWith('insert into') && INBOX.test(head)) connection.inboxInserts = (connection.inboxInserts ?? 0) + 1;
    else if (head.includes(HANDLER) || INBOX.test(head)) connection.handles = true;
    const ends = head.startsWith('commit') || (head.startsWith('rollback') && !head.startsWith('rollback to'));
    if (head.startsWith('commit')) counts.commit++;
    else if (head.startsWith('rollback to') || head.startsWith('savepoint') || head.startsWith('release')) counts.savepoint++;
    else if (head.startsWith('rollback')) counts.rollback++;
    if (!ends) return;
    const inserts = connection.inboxInserts ?? 0;
    if (connection.handles) {
      counts.receive += inserts;
      counts.handle += connection.statements - inserts;
    } else if (inserts > 0) counts.receive += connection.statements;
    connection.inTransaction = false;
  }

  snapshot(): StatementCounts {
    return { ...this.counts };
  }

  /** Wraps `query` of every client the pool creates (Kysely's PostgresDriver sends everything through it). */
  watchPool(pool: pg.Pool): pg.Pool {
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      const connection: ConnectionState = { inTransaction: false };
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
    const connection: ConnectionState = { inTransaction: false };
    (database as { prepare: unknown }).prepare = (source: string) => {
      this.record(source, connection);
      return prepare(source);
    };
    return database;
  }
}
