import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireDatabase } from '@messagebox/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { createTestDatabase, probePostgres, type TestDatabase } from './support/test-database.js';

const reachable = await requireDatabase('PostgreSQL', probePostgres);
const script = fileURLToPath(new URL('./fixtures/terminated-connections.ts', import.meta.url));

function runFixture(url: string, mode: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@messagebox/source', '--import', 'tsx', script], {
      env: { ...process.env, MB_DATABASE_URL: url, MB_MODE: mode },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.runIf(reachable)('postgres: connections Postgres terminates', () => {
  let database: TestDatabase;
  beforeAll(async () => void (database = await createTestDatabase()));
  afterAll(() => database?.drop());

  it.each([
    ['a pool of its own (connectionString)', 'own'],
    ['your db with its pool passed as `pool`', 'guarded'],
    ['your db with its pool guarded by you (guardPool) and `pool: false`', 'self'],
  ])('%s: the process survives a connection killed inside a handler and idle ones; the message is retried and handled once', { timeout: 90_000 }, async (_, mode) => {
    const run = await runFixture(database.url, mode);
    expect(run.stderr).not.toContain("Unhandled 'error' event");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { handled: number; attempts: number; idleTerminated: number };
    expect(result).toMatchObject({ handled: 1, attempts: 2 });
    expect(result.idleTerminated).toBeGreaterThan(0);
  });

  it('the control: a pool with only pool.on("error"), not given to the storage, crashes when a checked-out client is terminated', { timeout: 90_000 }, async () => {
    const run = await runFixture(database.url, 'unguarded');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("Unhandled 'error' event");
    expect(run.stderr).toContain('terminating connection due to administrator command');
    expect(run.stderr).toContain('was given no `pool`'); // the storage said so at start
  });

  it('createPostgresStorage needs db or a connection string', () => {
    expect(() => createPostgresStorage({} as never)).toThrow(/needs `db`/);
    expect(() => createPostgresStorage({ connectionString: '' })).toThrow(/connectionString must be a non-empty string/);
  });
});
