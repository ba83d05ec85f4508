import { formatDuration } from '@messagebox/core';
import { Option, type Command } from 'commander';
import { withConfig, type GlobalOptions } from '../context.js';
import { createProgress, json, print, type CliIO } from '../output.js';
import { durationOption, positiveInteger, side } from './parse.js';

export function purgeCommand(program: Command, io: CliIO): void {
  program
    .command('purge')
    .description('delete sent outbox and processed inbox messages older than a retention age, in bounded batches (dead ones are kept)')
    .addOption(durationOption('--older-than <duration>', 'retention age: delete messages finished longer ago, e.g. 7d, 12h').makeOptionMandatory())
    .addOption(new Option('--side <side>', 'only the outbox or only the inbox').argParser(side))
    .option('--batch-size <n>', 'rows deleted per statement', positiveInteger, 1000)
    .option('--max-rows <n>', 'stop after this many rows per side (bounds one run)', positiveInteger)
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Keep inbox messages at least as long as your senders may retry, or a late
retry of a purged message is handled twice; purge warns when --older-than is
shorter than messagebox's default retry span.

Examples:
  messagebox purge --older-than 7d
  messagebox purge --older-than 30d --side inbox --max-rows 100000`,
    )
    .action(async (options: { olderThan: number; side?: 'outbox' | 'inbox'; batchSize: number; maxRows?: number; json?: boolean }, command: Command) => {
      await withConfig(command.optsWithGlobals<GlobalOptions>(), io, 'the purge', async (context) => {
        const progress = createProgress(io.err);
        const report = await context.operations().purge({
          olderThanMs: options.olderThan,
          batchSize: options.batchSize,
          ...(options.side ? { side: options.side } : {}),
          ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}),
          onProgress: ({ side: s, deleted }) => progress.update(`purge: ${s}: ${deleted} deleted…`),
        });
        progress.done();
        for (const warning of report.warnings) print(io.err, `[messagebox] warning: ${warning}`);
        if (options.json) return print(io.out, json(report));
        print(io.out, `purged ${report.outbox} sent outbox and ${report.inbox} processed inbox message(s) finished more than ${formatDuration(options.olderThan)} ago`);
      });
    });
}
