import { expectInboxIdentityMigration, requireDatabase } from '@messagebox/testkit';
import { createKyselyStorage, resolveTables } from '@messagebox/kysely';
import { sql } from 'kysely';
import { mysqlCreateTables } from '../src/mysql-ddl.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlStorage, mysqlDialect } from '../src/index.js';
import { createTestDatabase, probeMysql, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('MySQL/MariaDB', probeMysql);

const ascii = (n: number) => `VARCHAR(${n}) CHARACTER SET ascii COLLATE ascii_bin`;
const OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** The tables exactly as migration 0001 created them before 0002 (inbox keyed by id; the outbox as 0001 still creates it). */
const legacy = (p: string) => [
  mysqlCreateTables(resolveTables({ tablePrefix: p }))[0]!,
  `CREATE TABLE IF NOT EXISTS \`${p}inbox\` (
  \`id\` ${ascii(255)} NOT NULL,
  \`source\` ${ascii(255)} NOT NULL,
  \`type\` ${ascii(255)} NOT NULL,
  \`payload\` LONGTEXT NOT NULL,
  \`headers\` MEDIUMTEXT NOT NULL,
  \`created_at\` BIGINT NOT NULL,
  \`status\` ${ascii(16)} NOT NULL,
  \`attempts\` INT NOT NULL DEFAULT 0,
  \`received_at\` BIGINT NOT NULL,
  \`available_at\` BIGINT NOT NULL,
  \`last_error\` MEDIUMTEXT NULL,
  \`processed_at\` BIGINT NULL,
  \`lease_until\` BIGINT NULL,
  \`claim_token\` ${ascii(255)} NULL,
  PRIMARY KEY (\`id\`),
  KEY \`${p}inbox_due\` (\`status\`, \`available_at\`, \`lease_until\`),
  KEY \`${p}inbox_processed\` (\`status\`, \`processed_at\`),
  KEY \`${p}inbox_status_received\` (\`status\`, \`received_at\`)
) ${OPTIONS}`,
  `CREATE TABLE IF NOT EXISTS \`${p}migrations\` (\`name\` ${ascii(255)} NOT NULL PRIMARY KEY, \`applied_at\` BIGINT NOT NULL) ${OPTIONS}`,
  `INSERT INTO \`${p}migrations\` (\`name\`, \`applied_at\`) VALUES ('0001_create_outbox_and_inbox', 0)`,
];

describe.runIf(reachable)('mysql: migration 0002_inbox_identity_source_id', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it('swaps the primary key of an inbox keyed by id for (source, id), keeping rows', async () => {
    const db = database.connect();
    const storage = createMysqlStorage({ db, tablePrefix: 'legacy_' });
    await expectInboxIdentityMigration({
      createLegacyTables: async () => {
        for (const statement of legacy('legacy_')) await sql.raw(statement).execute(db);
      },
      // The tables have no ordering columns before 0005: the inbox is used through a dialect without them (as the code of that time).
      inbox: createKyselyStorage({ db, dialect: { ...mysqlDialect, keyOrderMigration: undefined }, tablePrefix: 'legacy_' }).inbox,
      migrate: () => storage.migrate(),
    });
    const key = await sql<{ name: string }>`
      select column_name as name from information_schema.key_column_usage
      where table_schema = ${database.name} and table_name = 'legacy_inbox' and constraint_name = 'PRIMARY' order by ordinal_position`.execute(db);
    expect(key.rows.map((r) => r.name)).toEqual(['source', 'id']);
    await db.destroy();
  });
});
