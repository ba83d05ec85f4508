import { migrationFiles, resolveTables } from '@messagebox/kysely';
import { requireDatabase, runMigrationFilesCases } from '@messagebox/testkit';
import { createConnection } from 'mysql2/promise';
import { createMysqlStorage, mysqlDialect } from '../src/index.js';
import { createTestDatabase, probeMysql } from './support/test-database.js';

// The checked-in migrations/*.sql must be what migrate() runs; after changing a migration: `pnpm --filter @messagebox/mysql test -u`.
runMigrationFilesCases({
  files: migrationFiles(mysqlDialect, resolveTables({}), 'MySQL/MariaDB'),
  dir: new URL('../migrations/', import.meta.url),
  withEmptyDatabase: (await requireDatabase('MySQL/MariaDB', probeMysql))
    ? async (test) => {
        const database = await createTestDatabase();
        const db = database.connect(2);
        const connection = await createConnection({ uri: database.url, multipleStatements: true });
        try {
          await test({ run: (sql) => connection.query(sql), storage: () => createMysqlStorage({ db }) });
        } finally {
          await connection.end();
          await db.destroy();
          await database.drop();
        }
      }
    : undefined,
});
