// The example must keep working: run it as a user would.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('the Postgres example (two processes) delivers every payment and exits 0', () => {
  const run = spawnSync('pnpm', ['start'], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 120_000 });
  expect(run.stdout).toContain('delivered across processes and booked once');
  expect(run.stdout).not.toContain('✘');
  expect(run.status).toBe(0);
}, 130_000);
