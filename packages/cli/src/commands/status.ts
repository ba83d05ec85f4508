import { formatDuration, type FailingMessage, type StatusReport } from '@messagebox/core';
import type { Command } from 'commander';
import { withConfig, type GlobalOptions } from '../context.js';
import { json, print, table, truncate, type CliIO } from '../output.js';
import { positiveInteger } from './parse.js';

export function statusCommand(program: Command, io: CliIO): void {
  program
    .command('status')
    .description('counts by state for the outbox and inbox, age of the oldest pending message, recent errors, circuit breakers')
    .option('--json', 'print the report as JSON (for scripts and monitoring)')
    .option('--errors <n>', 'failing messages to list per side', positiveInteger, 5)
    .addHelpText('after', '\nExamples:\n  messagebox status\n  messagebox status --json | jq .outbox.pending')
    .action(async (options: { json?: boolean; errors: number }, command: Command) => {
      await withConfig(command.optsWithGlobals<GlobalOptions>(), io, 'reading the status', async (context) => {
        const report = await context.operations().status({ errors: options.errors });
        print(io.out, options.json ? json(report) : describeStatus(report));
      });
    });
}

export function describeStatus(report: StatusReport): string {
  const rows: string[][] = [['SIDE', 'STATE', 'COUNT', 'OLDEST']];
  const oldest = (ageMs: number | null) => (ageMs === null ? '' : formatDuration(ageMs));
  if (report.outbox) {
    const o = report.outbox;
    rows.push(['outbox', 'pending', String(o.pending), oldest(o.oldestPendingAgeMs)], ['', 'sent', String(o.sent), ''], ['', 'dead', String(o.dead), '']);
  }
  if (report.inbox) {
    const i = report.inbox;
    rows.push(['inbox', 'received', String(i.received), oldest(i.oldestPendingAgeMs)], ['', 'processed', String(i.processed), ''], ['', 'dead', String(i.dead), '']);
  }
  const lines = [table(rows, [2])];
  const destinations = report.outbox?.destinations ?? [];
  if (destinations.length) {
    const at = report.checkedAt.getTime();
    const until = (d: Date | null) => (d === null || d.getTime() <= at ? '' : `in ${formatDuration(d.getTime() - at)}`);
    const state = (d: (typeof destinations)[number]) => (d.pausedUntil && d.pausedUntil.getTime() > at ? `${d.breaker}, paused (busy)` : d.breaker);
    lines.push('', 'Destinations (circuit breakers, as each outbox worker last wrote them):');
    lines.push(
      table(
        [['DESTINATION', 'WORKER', 'BREAKER', 'FAILURES', 'PROBE/RESUME', 'SINCE'], ...destinations.map((d) => [d.destination, d.worker, state(d), String(d.consecutiveFailures), until(d.openUntil) || until(d.pausedUntil), `${formatDuration(Math.max(0, at - d.updatedAt.getTime()))} ago`])],
        [3],
      ),
    );
  }
  const errors: FailingMessage[] = [...(report.outbox?.recentErrors ?? []), ...(report.inbox?.recentErrors ?? [])];
  lines.push('');
  if (errors.length === 0) {
    lines.push('no recent errors');
  } else {
    lines.push('Recent errors:');
    for (const e of errors) {
      const wait = e.nextAttemptAt ? e.nextAttemptAt.getTime() - report.checkedAt.getTime() : undefined;
      const next = wait === undefined ? '' : wait > 0 ? `, next attempt in ${formatDuration(wait)}` : ', due now';
      lines.push(`  ${e.side} ${e.status} ${e.type} ${e.id} (attempts ${e.attempts}${next})`, `    ${truncate(e.lastError, 400)}`);
    }
  }
  return lines.join('\n');
}
