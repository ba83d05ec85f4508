import { randomBytes } from 'node:crypto';

/** What {@link createScratchDatabase} needs to know about one database server; the dialect-specific parts. */
export interface ScratchDatabaseServer<Db extends { destroy(): Promise<unknown> }, Args extends unknown[]> {
  /** The server as administrator; the scratch database's URL is this one with its path replaced. */
  adminUrl: string;
  /** Creates the database `name`. */
  create(name: string): Promise<unknown>;
  /** Drops the database `name` if it exists (with everything still connected to it, where the server can). */
  drop(name: string): Promise<unknown>;
  /** A new client on the database at `url`. */
  connect(url: string, ...args: Args): Db;
}

/** A database created for one test run. */
export interface ScratchDatabase<Db, Args extends unknown[]> {
  /** `mb_<random hex>`. */
  name: string;
  url: string;
  /** A new client on the scratch database; destroyed by `drop()`. */
  connect(...args: Args): Db;
  /** Destroys every client `connect()` made, then drops the database. */
  drop(): Promise<void>;
}

/**
 * Creates `mb_<random>` on `server` for this test run; `drop()` removes it.
 * The driver stays with the caller: testkit depends on no database package.
 *
 * @example
 * const database = await createScratchDatabase({
 *   adminUrl,
 *   create: (name) => admin(`CREATE DATABASE "${name}"`),
 *   drop: (name) => admin(`DROP DATABASE IF EXISTS "${name}"`),
 *   connect: (url, poolSize = 10) => new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: poolSize }) }) }),
 * });
 */
export async function createScratchDatabase<Db extends { destroy(): Promise<unknown> }, Args extends unknown[]>(
  server: ScratchDatabaseServer<Db, Args>,
): Promise<ScratchDatabase<Db, Args>> {
  const name = `mb_${randomBytes(6).toString('hex')}`;
  await server.create(name);
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  const clients: Db[] = [];
  return {
    name,
    url: url.toString(),
    connect(...args) {
      const client = server.connect(url.toString(), ...args);
      clients.push(client);
      return client;
    },
    async drop() {
      for (const client of clients.splice(0)) await client.destroy();
      await server.drop(name);
    },
  };
}
