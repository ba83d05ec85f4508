import { createConsoleLogger, describeError, type Logger } from '@messagebox/core';
import pg from 'pg';

const guarded = new WeakSet<pg.Pool>();

/** Options of {@link guardPool}. */
export interface GuardPoolOptions {
  /** Told once per client whose connection failed. Default: a warning on the console logger. */
  onError?: (error: Error) => void;
}

/**
 * Keeps a `pg.Pool` from crashing the process when Postgres ends one of its
 * connections (a restart, a failover, `pg_terminate_backend`, a network cut).
 * pg emits `'error'` on the pool for an idle client and on the client itself
 * while it is checked out (pg-pool removes its own listener then), and an
 * `'error'` nobody listens to is an uncaught exception. The guard listens on
 * the pool and on every client it hands out; the error then surfaces where it
 * belongs, as the rejected query of whoever holds the client (a handler's
 * transaction fails and is retried), and pg-pool discards the broken client.
 * Idempotent (a second call keeps the first `onError`); `createPostgresStorage`
 * calls it on the pool it opens or the `pool` you pass.
 *
 * @example
 * const pool = guardPool(new pg.Pool({ connectionString }));
 * const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
 */
export function guardPool(pool: pg.Pool, options: GuardPoolOptions = {}): pg.Pool {
  if (guarded.has(pool)) return pool;
  guarded.add(pool);
  const onError = options.onError ?? connectionErrorWarning(createConsoleLogger());
  const listening = new WeakSet<pg.PoolClient>();
  const failed = new WeakSet<pg.PoolClient>();
  const report = (client: pg.PoolClient, error: Error) => {
    if (failed.has(client)) return;
    failed.add(client);
    onError(error);
  };
  pool.on('error', (error, client) => report(client, error));
  pool.on('acquire', (client) => {
    if (listening.has(client)) return;
    listening.add(client);
    client.on('error', (error) => report(client, error));
  });
  return pool;
}

/** The default `onError` of {@link guardPool}: a warning on `logger`. */
export function connectionErrorWarning(logger: Logger): (error: Error) => void {
  return (error) => logger.warn({ error: describeError(error) }, 'a PostgreSQL connection failed; its client is discarded');
}

/** The pool settings `createPostgresStorage({ connectionString })` starts from. */
export const defaultPoolConfig: pg.PoolConfig = {
  max: 10,
  keepAlive: true,
  connectionTimeoutMillis: 10_000,
  idleTimeoutMillis: 30_000,
};
