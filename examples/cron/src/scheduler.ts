// The same as the crontab, from code: a resend pass every RESEND_EVERY
// (default 1m) and a purge every day, never overlapping, stopped on SIGTERM.
// Any job scheduler works the same way: call the operations from its job.
import { createOperations, describeError, formatDuration, parseDuration } from '@messagebox/core';
import { openVault } from './vault.js';

export function every(ms: number, job: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= job().finally(() => (running = undefined));
  }, ms);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export function startScheduler(vault: ReturnType<typeof openVault>, options: { resendEveryMs: number; log?: (line: string) => void }) {
  const log = options.log ?? console.log;
  const ops = createOperations({ outbox: vault.outbox });
  const stops = [
    every(options.resendEveryMs, async () => {
      try {
        const r = await ops.resend();
        if (r.attempted) log(`resend: attempted ${r.attempted}, sent ${r.sent}, to retry ${r.retried}, dead ${r.dead}; ${r.remaining.pending} pending`);
      } catch (error) {
        log(`resend failed: ${describeError(error)}`);
      }
    }),
    every(parseDuration('1d'), async () => {
      try {
        const r = await ops.purge({ olderThanMs: parseDuration('7d') });
        log(`purge: deleted ${r.outbox} sent messages older than ${formatDuration(parseDuration('7d'))}`);
      } catch (error) {
        log(`purge failed: ${describeError(error)}`);
      }
    }),
  ];
  return () => Promise.all(stops.map((stop) => stop())).then(() => undefined);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const vault = openVault();
  await vault.migrate();
  const stop = startScheduler(vault, { resendEveryMs: parseDuration(process.env['RESEND_EVERY'] ?? '1m') });
  console.log('scheduler running; stop with Ctrl+C');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      await stop();
      await vault.outbox.close();
      await vault.close();
      process.exit(0);
    });
  }
}
