// The README's first command must keep working: run the demo as a user would.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('pnpm demo runs every step and exits 0', () => {
  const run = spawnSync('pnpm', ['start'], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 120_000 });
  expect(run.stdout).toContain('All steps behaved.');
  expect(run.stdout).not.toContain('✘');
  expect(run.status).toBe(0);
}, 130_000);
