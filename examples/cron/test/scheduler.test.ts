// The scheduler from code must survive a failing run: a purge that fails
// (database briefly unreachable, tables missing) is logged, like a failed
// resend, and the next run is still scheduled.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { startScheduler } from '../src/scheduler.js';
import { openVault } from '../src/vault.js';

const dir = mkdtempSync(join(tmpdir(), 'messagebox-cron-scheduler-'));
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

it('logs a failed purge instead of crashing the scheduler, and keeps scheduling', async () => {
  const vault = openVault({ VAULT_DB: join(dir, 'not-migrated.db') });
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const lines: string[] = [];
  const stop = startScheduler(vault, { resendEveryMs: 86_400_000, log: (line) => lines.push(line) });
  try {
    for (let day = 0; day < 2; day++) {
      vi.advanceTimersByTime(86_400_000);
      await vi.waitFor(() => expect(lines.filter((l) => /purge failed/.test(l))).toHaveLength(day + 1));
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(rejections).toEqual([]);
    expect(lines.find((l) => /purge failed/.test(l))).toMatch(/no such table/);
  } finally {
    await stop().catch(() => undefined);
    process.off('unhandledRejection', onRejection);
    await vault.outbox.close();
    await vault.close();
  }
});
