import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { UNGUARDED_POOL_WARNING } from '../src/unguarded-pool-warning.js';

// No database needed: creating a storage opens no connection. The warning is once per process, so the order of these cases matters.
const pools: pg.Pool[] = [];
const onPool = () => {
  const pool = new pg.Pool({ connectionString: 'postgres://127.0.0.1:1/none' });
  pools.push(pool);
  return { pool, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }) };
};
afterAll(async () => void (await Promise.all(pools.map((p) => p.end()))));

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
});
