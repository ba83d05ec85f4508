import type { InboxStore, OutboxStore } from '@messagebox/core';
import { createMysqlStorage } from '@messagebox/mysql';
import { createPostgresStorage } from '@messagebox/postgres';
import { createSqliteStorage } from '@messagebox/sqlite';
import { requireDatabase } from '@messagebox/testkit';
import Database from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql, type CompiledQuery } from 'kysely';
import { createConnection, createPool } from 'mysql2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const postgresUrl = process.env.MESSAGEBOX_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const mysqlUrl = process.env.MESSAGEBOX_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

async function mysqlAdmin(statement: string): Promise<void> {
  const connection = createConnection({ uri: mysqlUrl, connectTimeout: 3_000 }).promise();
  try {
    await connection.query(statement);
  } finally {
    await connection.end();
  }
}

export const mysqlReachable = () => requireDatabase('MySQL/MariaDB', () => mysqlAdmin('select 1'));

export const postgresReachable = () =>
  requireDatabase('PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3_000 });
    await client.connect();
    await client.end();
  });

/** A real database with messagebox's tables: Postgres in a schema of its own, or a SQLite file of its own. */
export interface TestStore {
  kind: 'postgres' | 'sqlite' | 'mysql';
  db: Kysely<unknown>;
  outbox: OutboxStore<unknown>;
  inbox: InboxStore<unknown>;
  /** Qualified table names, for checking counts with SQL of our own. */
  outboxTable: string;
  inboxTable: string;
  /** Queries run through `db`, when opened with `log`. */
  log: CompiledQuery[];
  close(): Promise<void>;
}

const suffix = () => `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

export async function openPostgresStore(): Promise<TestStore> {
  const schema = `dash_${suffix()}`;
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 6 });
  const log: CompiledQuery[] = [];
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }), log: (event) => void log.push(event.query) });
  return testStore('postgres', db, log, createPostgresStorage({ db, pool, schema }), `${schema}.`, async () => {
    await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).execute(db);
  });
}

export async function openSqliteStore(): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'messagebox-dashboard-'));
  const log: CompiledQuery[] = [];
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(join(dir, 'app.db')) }), log: (event) => void log.push(event.query) });
  return testStore('sqlite', db, log, createSqliteStorage({ db }), '', async () => rmSync(dir, { recursive: true, force: true }), true);
}

export async function openMysqlStore(): Promise<TestStore> {
  const name = `dash_${suffix()}`;
  await mysqlAdmin(`CREATE DATABASE \`${name}\``);
  const url = new URL(mysqlUrl);
  url.pathname = `/${name}`;
  const log: CompiledQuery[] = [];
  const db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool: createPool({ uri: url.toString(), connectionLimit: 4 }) }), log: (event) => void log.push(event.query) });
  return testStore('mysql', db, log, createMysqlStorage({ db }), '', () => mysqlAdmin(`DROP DATABASE IF EXISTS \`${name}\``), true);
}

async function testStore(
  kind: TestStore['kind'],
  db: Kysely<unknown>,
  log: CompiledQuery[],
  storage: { outbox: unknown; inbox: unknown; migrate(): Promise<unknown> },
  qualifier: string,
  cleanUp: () => Promise<void>,
  cleanUpAfterDestroy = false,
): Promise<TestStore> {
  await storage.migrate();
  return {
    kind,
    db,
    outbox: storage.outbox as OutboxStore<unknown>,
    inbox: storage.inbox as InboxStore<unknown>,
    outboxTable: `${qualifier}messagebox_outbox`,
    inboxTable: `${qualifier}messagebox_inbox`,
    log,
    async close() {
      if (!cleanUpAfterDestroy) await cleanUp();
      await db.destroy();
      if (cleanUpAfterDestroy) await cleanUp();
    },
  };
}

/** Rows per (type, status) as the database holds them, with in-flight counts: what the overview must show. */
export async function databaseCounts(store: TestStore, side: 'outbox' | 'inbox') {
  const table = side === 'outbox' ? store.outboxTable : store.inboxTable;
  const now = Date.now();
  const { rows } = await sql
    .raw<{ type: string; status: string; n: number | string; in_flight: number | string }>(
      `select type, status, count(*) as n, sum(case when lease_until > ${now} then 1 else 0 end) as in_flight from ${table} group by type, status`,
    )
    .execute(store.db);
  const counts: Record<string, Record<string, number>> = {};
  for (const row of rows) {
    const of = (counts[row.type] ??= {});
    of[row.status] = Number(row.n);
    of.inFlight = (of.inFlight ?? 0) + Number(row.in_flight ?? 0);
  }
  return counts;
}
