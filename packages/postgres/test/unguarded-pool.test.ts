import type { Logger } from '@messagebox/core';
import { requireDatabase } from '@messagebox/testkit';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { UNGUARDED_POOL_WARNING } from '../src/unguarded-pool-warning.js';
import { adminUrl, probePostgres } from './support/test-database.js';

// No database needed (but in the last case): creating a storage opens no connection. The warning is once per process, so the order of these cases matters.
const pools: pg.Pool[] = [];
const onPool = (connectionString = 'postgres://127.0.0.1:1/none') => {
  const pool = new pg.Pool({ connectionString });
  pools.push(pool);
  return { pool, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }) };
};
afterAll(async () => void (await Promise.all(pools.map((p) => p.end()))));

/** A logger that keeps its warnings. */
function recordingLogger() {
  const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (fields, message) => void warnings.push({ fields, message }) };
  return { logger, warnings };
}

describe('createPostgresStorage({ db }) and its pool', () => {
  it('refuses a `pool` that is not a pg.Pool, with invalid_options', () => {
    const { db } = onPool();
    expect(() => createPostgresStorage({ db, pool: 'pool' as never })).toThrow(expect.objectContaining({ code: 'invalid_options', message: expect.stringContaining('`pool` must be the pg.Pool under `db`') }));
  });

  it('with `pool` (guarded) or `pool: false` (guarded by you) it says nothing; without, it warns once per process what breaks and how to fix it', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const guarded = onPool();
      createPostgresStorage({ db: guarded.db, pool: guarded.pool });
      expect(guarded.pool.listenerCount('error')).toBe(1);
      createPostgresStorage({ db: onPool().db, pool: false });
      expect(warn).not.toHaveBeenCalled();
      createPostgresStorage({ db: onPool().db });
      createPostgresStorage({ db: onPool().db });
      expect(warn).toHaveBeenCalledTimes(1);
      const line = String(warn.mock.calls[0]![0]);
      expect(line).toContain('[messagebox]');
      expect(line).toContain(UNGUARDED_POOL_WARNING.slice(0, 60));
      expect(UNGUARDED_POOL_WARNING).toMatch(/crashes the process/);
      expect(UNGUARDED_POOL_WARNING).toMatch(/createPostgresStorage\(\{ db, pool \}\)/);
    } finally {
      warn.mockRestore();
    }
  });

  it('with `logger`, the warning goes to that logger (once per process), not to the console; `pool: false` still says nothing', async () => {
    // A fresh copy of the package: the process above has already been warned.
    vi.resetModules();
    const fresh = await import('../src/index.js');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const { logger, warnings } = recordingLogger();
      fresh.createPostgresStorage({ db: onPool().db, pool: false, logger });
      expect(warnings).toEqual([]);
      fresh.createPostgresStorage({ db: onPool().db, logger });
      fresh.createPostgresStorage({ db: onPool().db, logger });
      fresh.createPostgresStorage({ db: onPool().db });
      expect(warnings).toEqual([{ fields: {}, message: UNGUARDED_POOL_WARNING }]);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

const reachable = await requireDatabase('PostgreSQL', probePostgres);

describe.runIf(reachable)('createPostgresStorage({ db, pool, logger }): a connection Postgres ends', () => {
  it('is reported on `logger` when no onConnectionError is given', { timeout: 60_000 }, async () => {
    const { logger, warnings } = recordingLogger();
    const { db, pool } = onPool(adminUrl);
    createPostgresStorage({ db, pool, logger });
    const client = await pool.connect();
    const pid = (client as unknown as { processID: number }).processID;
    client.release(); // idle in the pool: its 'error' comes on the pool
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query('select pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    const deadline = Date.now() + 30_000;
    while (warnings.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings).toEqual([{ fields: { error: expect.stringContaining('terminating connection') }, message: 'a PostgreSQL connection failed; its client is discarded' }]);
  });
});
