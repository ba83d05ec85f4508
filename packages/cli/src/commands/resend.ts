import { formatDuration, type ResendReport } from '@messagebox/core';
import type { Command } from 'commander';
import { requireOutbox, withConfig, type GlobalOptions } from '../context.js';
import { createProgress, json, print, type CliIO } from '../output.js';
import { positiveInteger } from './parse.js';

export function resendCommand(program: Command, io: CliIO): void {
  program
    .command('resend')
    .description('one resend pass: attempt every due outbox message once, then exit (for cron)')
    .option('--max <n>', 'attempt at most this many messages', positiveInteger)
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Exits 0 when the pass ran, even if receivers were down (those messages are
retried by a later pass); non-zero only when the pass itself failed, e.g. the
database is unreachable.

Examples:
  messagebox resend
  */1 * * * *  cd /srv/app && npx messagebox resend >> /var/log/messagebox.log 2>&1`,
    )
    .action(async (options: { max?: number; json?: boolean }, command: Command) => {
      await withConfig(command.optsWithGlobals<GlobalOptions>(), io, 'the resend pass', async (context) => {
        requireOutbox(context.config, 'resend');
        const progress = createProgress(io.err);
        const report = await context.operations().resend({
          ...(options.max !== undefined ? { maxMessages: options.max } : {}),
          onProgress: (r) => progress.update(`resend: ${r.attempted} attempted, ${r.sent} sent, ${r.retried} to retry, ${r.dead} dead…`),
        });
        progress.done();
        print(io.out, options.json ? json(report) : describeResend(report));
      });
    });
}

export function describeResend(report: ResendReport): string {
  const parts = [`resend: attempted ${report.attempted}, sent ${report.sent}, to retry ${report.retried}, dead ${report.dead}`];
  if (report.fenced) parts.push(`taken over by another worker ${report.fenced}`);
  if (report.deferred) parts.push(`held back (destination busy or its circuit breaker open) ${report.deferred}`);
  const left = report.remaining;
  const oldest = left.oldestPendingAt ? ` (oldest ${formatDuration(Date.now() - left.oldestPendingAt.getTime())})` : '';
  return `${parts.join(', ')} in ${formatDuration(report.durationMs)}; now ${left.pending} pending${oldest}, ${left.dead} dead`;
}
