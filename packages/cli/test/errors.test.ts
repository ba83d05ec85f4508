import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from './support/cli.js';
import { freePort } from './support/receiver.js';

const empty = mkdtempSync(join(tmpdir(), 'messagebox-cli-empty-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('messagebox CLI: errors that say what to do', () => {
  it('prints help for every command and exits 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['migrate', 'resend', 'worker', 'status', 'dead', 'purge']) expect(help.stdout).toContain(command);
    expect(help.stdout).toMatch(/Exit codes:/);
    for (const command of [['resend'], ['worker'], ['status'], ['purge'], ['migrate'], ['dead', 'list'], ['dead', 'show'], ['dead', 'replay']]) {
      const result = await runCli([...command, '--help']);
      expect(result.code, command.join(' ')).toBe(0);
      expect(result.stdout, command.join(' ')).toMatch(/Usage: messagebox .*\n[\s\S]*Example/);
    }
  });

  it('exits 2 on an unknown command', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('exits 2 on a duration without a unit instead of reading it as milliseconds', async () => {
    for (const args of [['purge', '--older-than', '30'], ['dead', 'replay', '--older-than', '7'], ['worker', '--shutdown-timeout', '30']]) {
      const result = await runCli(args, { env: { MB_DIALECT: 'sqlite', MB_SQLITE_FILE: join(empty, 'units.db') } });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/"(\d+)" has no unit: write \1ms, or \1s or \1m \(durations need a unit: 500ms, 30s, 15m, 12h, 7d, 2w\)/);
    }
  });

  it('exits 3 and says how to create one when there is no config file', async () => {
    const result = await runCli(['status'], { cwd: empty, env: { MESSAGEBOX_CONFIG: undefined } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`no messagebox config found in ${empty}`);
    expect(result.stderr).toMatch(/create messagebox\.config\.ts there .*or pass --config <path>/);
  });

  it('exits 3 when --config names a missing file', async () => {
    const result = await runCli(['status', '--config', 'nope.config.ts']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/nope\.config\.ts does not exist/);
  });

  it('exits 3 when the config exports nothing usable', async () => {
    const result = await runCli(['--config', join(FIXTURES, 'empty.config.ts'), 'status']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/empty\.config\.ts exports neither an outbox nor an inbox/);
    expect(result.stderr).toMatch(/export default defineConfig\(\{ outbox, inbox/);
  });

  it('exits 3 with the error when the config fails to load', async () => {
    const result = await runCli(['status', '--config', join(FIXTURES, 'broken.config.ts')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/loading broken\.config\.ts failed: DATABASE_URL is not set/);
  });

  it('exits 1 and says to check the connection when Postgres is unreachable', async () => {
    const port = await freePort();
    const env = { MB_DIALECT: 'postgres', MB_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test` };
    for (const command of [['status'], ['resend']]) {
      const result = await runCli(command, { env });
      expect(result.code, command[0]).toBe(1);
      expect(result.stderr).toMatch(/could not reach the database \(.*ECONNREFUSED/);
      expect(result.stderr).toMatch(/check the connection settings/);
    }
  });

  it('exits 1, not 3, when the config itself cannot reach the database', async () => {
    const port = await freePort();
    const result = await runCli(['resend', '--config', join(FIXTURES, 'eager.config.ts')], { env: { MB_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/could not reach the database \(.*ECONNREFUSED/);
    expect(result.stderr).toMatch(/check the connection settings/);
  });

  it('exits 1 when the SQLite file cannot be opened', async () => {
    const result = await runCli(['resend'], { env: { MB_DIALECT: 'sqlite', MB_SQLITE_FILE: join(empty, 'missing-dir', 'app.db') } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the resend pass failed: could not reach the database/);
  });
});
