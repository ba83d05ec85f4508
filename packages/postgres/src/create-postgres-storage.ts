import type { Clock } from '@messagebox/core';
import { createKyselyStorage, type MessageboxStorage } from '@messagebox/kysely';
import type { Kysely, Transaction } from 'kysely';
import { createPostgresDialect } from './postgres-dialect.js';
import type { ListenOptions } from './postgres-listener.js';

/** Options of {@link createPostgresStorage}. */
export interface PostgresStorageOptions<DB> {
  /** Your Kysely instance on a `PostgresDialect` (pg). */
  db: Kysely<DB>;
  /** Schema of the tables, created by `migrate()` if missing. Default: the search path (usually `public`). */
  schema?: string;
  /** Prepended to the table names. Default `messagebox_`. */
  tablePrefix?: string;
  /**
   * Wake workers in other processes at once with `LISTEN`, over a dedicated
   * connection: `true` (libpq environment variables), a connection string or
   * a `pg` client config. Turn it off (default) behind a pooler in
   * transaction mode; workers then poll.
   */
  listen?: ListenOptions | false;
  /** Issue `pg_notify` inside the transaction that adds messages. Default true. */
  notify?: boolean;
  /** Replaces the database clock (tests of backoff). */
  clock?: Clock;
}

/**
 * Outbox and inbox stores in your PostgreSQL database.
 *
 * @example
 * const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString }) }) });
 * const storage = createPostgresStorage({ db, listen: connectionString });
 * await storage.migrate();
 * const outbox = createOutbox({ store: storage.outbox, source: 'vault' });
 */
export function createPostgresStorage<DB>(options: PostgresStorageOptions<DB>): MessageboxStorage<Transaction<DB>> {
  return createKyselyStorage({
    db: options.db,
    dialect: createPostgresDialect({ listen: options.listen, notify: options.notify }),
    schema: options.schema,
    tablePrefix: options.tablePrefix,
    clock: options.clock,
  });
}
