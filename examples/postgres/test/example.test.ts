// The example must keep working: run it as a user would, on a database of its own.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';

const adminUrl = process.env.MESSAGEBOX_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = `mb_example_${randomBytes(4).toString('hex')}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

beforeAll(() => admin(`CREATE DATABASE "${name}"`));
afterAll(() => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));

it('the Postgres example (two processes) delivers every payment and exits 0', () => {
  const run = spawnSync('pnpm', ['start'], {
    cwd: new URL('..', import.meta.url).pathname,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  expect(run.stdout).toContain('delivered across processes and booked once');
  expect(run.stdout).not.toContain('✘');
  expect(run.status).toBe(0);
}, 130_000);
