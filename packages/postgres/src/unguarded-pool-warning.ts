import { createConsoleLogger, type Logger } from '@messagebox/core';

/** What {@link warnUnguardedPool} says. */
export const UNGUARDED_POOL_WARNING =
  'createPostgresStorage({ db }) was given no `pool`, so it cannot guard the pg.Pool under db: when Postgres ends a connection (a restart, a failover, pg_terminate_backend), ' +
  "pg emits 'error' on the pool (an idle client) or on the client itself (one a query or transaction holds), and an 'error' nobody listens to crashes the process. " +
  'Pass the pool: createPostgresStorage({ db, pool }); or, once you guard it yourself (guardPool(pool) from @messagebox/postgres listens on both), pass pool: false';

let warned = false;

/**
 * Warns once per process (level warn, on `logger`: the storage's `logger`
 * option, else the console logger) that a storage on your `db` runs on a
 * pool it could not guard. `createPostgresStorage` calls it when `db` comes
 * without `pool` (and without `pool: false`).
 */
export function warnUnguardedPool(logger?: Logger): void {
  if (warned) return;
  warned = true;
  (logger ?? createConsoleLogger()).warn({}, UNGUARDED_POOL_WARNING);
}
