/** The databases `messagebox init` writes a starter config for. */
export const DATABASES = ['sqlite', 'postgres', 'mysql'] as const;
export type Database = (typeof DATABASES)[number];

/** What each database needs: the packages to install and how its Kysely instance and storage are made. */
const SETUP: Record<Database, { packages: string; imports: string; pool?: string; db: string; storage: string; env: string }> = {
  sqlite: {
    packages: '@messagebox/core @messagebox/sqlite @messagebox/transport-http @messagebox/cli kysely better-sqlite3',
    imports: `import Database from 'better-sqlite3';\nimport { Kysely, SqliteDialect } from 'kysely';\nimport { createSqliteStorage } from '@messagebox/sqlite';`,
    db: `new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(process.env.DATABASE_PATH ?? 'app.db') }) })`,
    storage: 'createSqliteStorage({ db })',
    env: 'DATABASE_PATH (default app.db)',
  },
  postgres: {
    packages: '@messagebox/core @messagebox/postgres @messagebox/transport-http @messagebox/cli kysely pg',
    imports: `import pg from 'pg';\nimport { Kysely, PostgresDialect } from 'kysely';\nimport { createPostgresStorage } from '@messagebox/postgres';`,
    pool: `new pg.Pool({ connectionString: process.env.DATABASE_URL })`,
    db: `new Kysely<any>({ dialect: new PostgresDialect({ pool }) })`,
    // With its pool, the storage guards it: a connection Postgres ends fails a query instead of crashing the process.
    storage: 'createPostgresStorage({ db, pool })',
    env: 'DATABASE_URL (e.g. postgres://user:password@127.0.0.1:5432/app)',
  },
  mysql: {
    packages: '@messagebox/core @messagebox/mysql @messagebox/transport-http @messagebox/cli kysely mysql2',
    imports: `import { createPool } from 'mysql2';\nimport { Kysely, MysqlDialect } from 'kysely';\nimport { createMysqlStorage } from '@messagebox/mysql';`,
    db: `new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: process.env.DATABASE_URL }) }) })`,
    storage: 'createMysqlStorage({ db })',
    env: 'DATABASE_URL (e.g. mysql://user:password@127.0.0.1:3306/app)',
  },
};

/** The packages a project on `database` installs. */
export function packagesFor(database: Database): string {
  return SETUP[database].packages;
}

/** A starter `messagebox.config.ts` for `database`. */
export function starterConfig(database: Database): string {
  const setup = SETUP[database];
  return `// messagebox.config.ts: what the \`messagebox\` command runs (migrate, resend, worker, status, dead, purge).
// Written by \`messagebox init --database ${database}\`. Share this bootstrap with your app.
// Environment: ${setup.env}; RECEIVER_URL and RECEIVER_SECRET for the outbox.
// Load a .env file with \`messagebox --env-file .env <command>\`.
${setup.imports}
import { defineConfig } from '@messagebox/cli';
import { createInbox, createOutbox } from '@messagebox/core';
import { createHttpTransport } from '@messagebox/transport-http';

export default defineConfig(() => {
${setup.pool ? `  const pool = ${setup.pool};\n` : ''}  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- use your own Kysely database type here
  const db = ${setup.db};
  const storage = ${setup.storage};

  // The sending side: one transport per message type.
  const outbox = createOutbox({ store: storage.outbox, source: 'my-service' });
  if (process.env.RECEIVER_URL) {
    outbox.configure('example.created', {
      transport: createHttpTransport({ url: process.env.RECEIVER_URL, secret: process.env.RECEIVER_SECRET }),
    });
  }

  // The receiving side: one handler per message type.
  const inbox = createInbox({ store: storage.inbox }).on('example.created', async (message) => {
    console.log('received', message.id, message.payload);
  });

  return { outbox, inbox, migrate: () => storage.migrate(), close: () => db.destroy() };
});
`;
}
