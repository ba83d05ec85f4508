import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './support/cli.js';
import { createPostgresDatabase, createSqliteDatabase, type TestDatabase } from './support/databases.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** Inside the package, so a generated config resolves @messagebox/* and the drivers like an app's would. */
const scratchDir = () => mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), '.scratch-'));

describe('messagebox --version', () => {
  it('prints the package version and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(VERSION);
    }
  });
});

describe('messagebox init', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const scratch = () => {
    const dir = scratchDir();
    dirs.push(dir);
    return dir;
  };

  it('writes a SQLite config that migrate and status then run, with the path from --env-file', async () => {
    const dir = scratch();
    const init = await runCli(['init', '--database', 'sqlite'], { cwd: dir, env: { MESSAGEBOX_CONFIG: undefined } });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/wrote messagebox\.config\.ts for sqlite/);
    expect(init.stdout).toMatch(/npm install .*@messagebox\/sqlite.*better-sqlite3/);
    const config = readFileSync(join(dir, 'messagebox.config.ts'), 'utf8');
    expect(config).toMatch(/createSqliteStorage/);

    writeFileSync(join(dir, '.env'), `# the database file\nDATABASE_PATH=${join(dir, 'from-env.db')}\n`);
    const env = { MESSAGEBOX_CONFIG: undefined };
    const migrate = await runCli(['--env-file', '.env', 'migrate'], { cwd: dir, env });
    expect(migrate.stderr).toBe('');
    expect(migrate.stdout).toMatch(/applied \d+ migration\(s\)/);
    const status = await runCli(['--env-file', '.env', 'status', '--json'], { cwd: dir, env });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).outbox).toMatchObject({ pending: 0, dead: 0 });
    expect(readFileSync(join(dir, 'from-env.db')).length).toBeGreaterThan(0);

    const again = await runCli(['init', '--database', 'sqlite'], { cwd: dir, env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/messagebox\.config\.ts already exists; nothing written/);
    expect(again.stderr).toMatch(/--force/);
    expect(readFileSync(join(dir, 'messagebox.config.ts'), 'utf8')).toBe(config);
    const forced = await runCli(['init', '--database', 'postgres', '--force'], { cwd: dir, env });
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'messagebox.config.ts'), 'utf8')).toMatch(/createPostgresStorage/);
  });

  it('writes a Postgres config that migrates the database DATABASE_URL names', async (ctx) => {
    const database = await createPostgresDatabase();
    if (!database) return ctx.skip('Postgres is not reachable');
    try {
      const dir = scratch();
      expect((await runCli(['init', '--database', 'postgres', '--file', 'ops.config.ts'], { cwd: dir })).code).toBe(0);
      expect(readFileSync(join(dir, 'ops.config.ts'), 'utf8')).toMatch(/import pg from 'pg';[\s\S]*PostgresDialect[\s\S]*createPostgresStorage\(\{ db, pool \}\)/);
      const migrate = await runCli(['--config', 'ops.config.ts', 'migrate'], { cwd: dir, env: { DATABASE_URL: database.env['MB_DATABASE_URL'] } });
      expect(migrate.stderr).toBe('');
      expect(migrate.stdout).toMatch(/applied \d+ migration\(s\)/);
    } finally {
      await database.destroy();
    }
  });

  it('writes a MySQL config on mysql2, and refuses an unknown database', async () => {
    const dir = scratch();
    expect((await runCli(['init', '--database', 'mysql'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, 'messagebox.config.ts'), 'utf8')).toMatch(/from 'mysql2'[\s\S]*MysqlDialect[\s\S]*createMysqlStorage\(\{ db \}\)/);
    const unknown = await runCli(['init', '--database', 'oracle', '--file', 'other.ts'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Allowed choices are sqlite, postgres, mysql/);
    const missing = await runCli(['init'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--database/);
  });
});

describe('--env-file', () => {
  it('says which file is missing (exit 3) and does not override variables already set', async () => {
    const missing = await runCli(['--env-file', 'no-such.env', 'status']);
    if (Number(process.versions.node.split('.')[0]) <= 20) {
      // Node 20 itself checks an --env-file anywhere in argv, before the CLI runs.
      expect(missing.code).toBe(9);
      expect(missing.stderr).toMatch(/no-such\.env: not found/);
    } else {
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/env file .*no-such\.env does not exist/);
    }

    const dir = scratchDir();
    try {
      writeFileSync(join(dir, 'cli.env'), 'MB_SQLITE_FILE=/nonexistent/dir/should-not-be-used.db\n');
      const database = await createSqliteDatabase();
      try {
        const result = await runCli(['--env-file', join(dir, 'cli.env'), 'migrate'], { env: database.env });
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
      } finally {
        await database.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('durations', () => {
  it('help shows defaults the way values are written, and a bare number is refused with what to write', async () => {
    const help = await runCli(['worker', '--help']);
    expect(help.stdout).toMatch(/--shutdown-timeout <duration>[\s\S]*\(default: 30s\)/);
    expect(help.stdout).toMatch(/--report-interval <duration>[\s\S]*\(default: 1m\)/);
    expect(help.stdout).not.toMatch(/default: \d{4,}\)/);
    const bare = await runCli(['worker', '--shutdown-timeout', '30000']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/"30000" has no unit: write 30000ms, or 30s if you meant 30000 milliseconds/);
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/Durations need a unit: 500ms, 30s, 15m, 12h, 7d, 2w; a bare number is refused/);
  });
});

describe('worker logs and dead letters on SQLite', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createSqliteDatabase();
    expect((await runCli(['migrate'], { env: database.env })).code).toBe(0);
  });
  afterAll(() => database?.destroy());

  async function runUntilDead(args: string[], dead: number) {
    const env = { ...database.env, MB_LOG_LEVEL: 'warn', MB_MAX_ATTEMPTS: '1' };
    const worker = startCli([...args, 'worker', '--only', 'inbox', '--report-interval', '100ms', '--shutdown-timeout', '5s'], { env });
    await worker.waitFor(new RegExp(`dead ${dead}`));
    worker.child.kill('SIGTERM');
    return worker.exited;
  }

  it('writes one line per event by default', async () => {
    await database.receiveInInbox([1, 2, 3].map((n) => ({ id: `text-${n}`, type: 'note.received', payload: { fail: true } })));
    const result = await runUntilDead([], 3);
    expect(result.code).toBe(0);
    const deadLines = result.stderr.split('\n').filter((line) => line.includes('inbox message is dead'));
    expect(deadLines).toHaveLength(3);
    for (const line of deadLines) expect(line).toMatch(/^\[messagebox\] inbox message is dead id=text-\d type=note\.received attempts=1 error=".*note handler refused the note.*"$/);
    expect(result.stderr.split('\n').filter((line) => /^\s/.test(line))).toEqual([]);
    expect(result.stdout).toMatch(/^worker started: inbox/m);
  });

  it('writes one JSON object per line with --log-format json', async () => {
    await database.receiveInInbox([1, 2].map((n) => ({ id: `json-${n}`, type: 'note.received', payload: { fail: true } })));
    const result = await runUntilDead(['--log-format', 'json'], 2);
    expect(result.code).toBe(0);
    const lines = `${result.stdout}${result.stderr}`.split('\n').filter(Boolean);
    const records = lines.map((line) => JSON.parse(line) as { level: string; msg: string; time: string; id?: string });
    expect(records.filter((r) => r.msg === 'inbox message is dead').map((r) => r.id).sort()).toEqual(['json-1', 'json-2']);
    expect(records.find((r) => r.msg.startsWith('worker started'))).toMatchObject({ level: 'info' });
    for (const record of records) expect(Date.parse(record.time)).not.toBeNaN();
  });

  it('dead list shows the cause first; dead replay --side inbox --dry-run lists and changes nothing', async () => {
    const list = await runCli(['dead', 'list', '--side', 'inbox'], { env: database.env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/text-1 +note\.received +1 +\S+ +note handler refused the note/);
    const dry = await runCli(['dead', 'replay', '--side', 'inbox', '--dry-run'], { env: database.env });
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^inbox {2}shop {2}text-1 {2}note\.received$/m);
    expect(dry.stdout).toMatch(/would replay 5 dead message\(s\); nothing changed/);
    expect(JSON.parse((await runCli(['status', '--json'], { env: database.env })).stdout).inbox).toMatchObject({ dead: 5, received: 0 });
    const unsaid = await runCli(['dead', 'replay', '--side', 'inbox'], { env: database.env });
    expect(unsaid.code).toBe(2);
    expect(unsaid.stderr).toMatch(/--all/);
  });
});
