import { migrationFiles, resolveTables } from '@messagebox/kysely';
import { requireDatabase, runMigrationFilesCases } from '@messagebox/testkit';
import pg from 'pg';
import { createPostgresDialect, createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres } from './support/test-database.js';

// The checked-in migrations/*.sql must be what migrate() runs; after changing a migration: `pnpm --filter @messagebox/postgres test -u`.
runMigrationFilesCases({
  files: migrationFiles(createPostgresDialect({}), resolveTables({}), 'PostgreSQL'),
  dir: new URL('../migrations/', import.meta.url),
  withEmptyDatabase: (await requireDatabase('PostgreSQL', probePostgres))
    ? async (test) => {
        const database = await createTestDatabase();
        const db = database.connect(2);
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          await test({ run: (sql) => client.query(sql), storage: () => createPostgresStorage({ db, pool: false }) });
        } finally {
          await client.end();
          await db.destroy();
          await database.drop();
        }
      }
    : undefined,
});
