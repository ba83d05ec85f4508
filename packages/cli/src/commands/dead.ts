import { formatDuration, type DeadMessageFilter, type StoredMessage } from '@messagebox/core';
import { Command, Option } from 'commander';
import { CliError } from '../cli-error.js';
import { withConfig, type GlobalOptions } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { json, oneLine, print, table, truncate, type CliIO } from '../output.js';
import { durationOption, positiveInteger, side } from './parse.js';

interface FilterOptions {
  side?: 'outbox' | 'inbox';
  source?: string;
  type?: string;
  olderThan?: number;
  error?: string;
}

function addFilters(command: Command): Command {
  return command
    .addOption(new Option('--side <side>', 'only the outbox or only the inbox').argParser(side))
    .option('--source <source>', 'only messages from this source (an inbox message is identified by source and id)')
    .option('--type <type>', 'only messages of this type')
    .addOption(durationOption('--older-than <duration>', 'only messages created (outbox) or received (inbox) longer ago, e.g. 1h, 7d'))
    .option('--error <text>', 'only messages whose last error contains this text');
}

function toFilter(options: FilterOptions, ids?: string[]): DeadMessageFilter {
  const filter: DeadMessageFilter = {};
  if (options.side) filter.side = options.side;
  if (options.source !== undefined) filter.source = options.source;
  if (options.type !== undefined) filter.type = options.type;
  if (options.olderThan !== undefined) filter.olderThanMs = options.olderThan;
  if (options.error !== undefined) filter.errorContains = options.error;
  if (ids && ids.length) filter.ids = ids;
  return filter;
}

export function deadCommand(program: Command, io: CliIO): void {
  const dead = program
    .command('dead')
    .description('dead messages (given up after their retries): list, show, replay')
    .addHelpText('after', '\nExamples:\n  messagebox dead list --type payment.created --older-than 1h\n  messagebox dead show 0190b7c2-…\n  messagebox dead replay --error ECONNREFUSED');

  addFilters(dead.command('list'))
    .description('list dead messages, oldest first')
    .option('--limit <n>', 'most messages listed', positiveInteger, 100)
    .option('--json', 'print the messages as JSON')
    .addHelpText('after', '\nExample:\n  messagebox dead list --side outbox --error "503"')
    .action(async (options: FilterOptions & { limit: number; json?: boolean }, command: Command) => {
      await withConfig(command.optsWithGlobals<GlobalOptions>(), io, 'listing dead messages', async (context) => {
        const found = await context.operations().listDead({ ...toFilter(options), limit: options.limit });
        if (options.json) return print(io.out, json(found));
        if (found.length === 0) return print(io.out, 'no dead messages match');
        const rows = [['SIDE', 'SOURCE', 'ID', 'TYPE', 'ATTEMPTS', 'AGE', 'LAST ERROR']];
        const now = Date.now();
        for (const m of found) rows.push([m.side, m.source, m.id, m.type, String(m.attempts), formatDuration(now - timeOf(m)), truncate(m.lastError ?? '', 80)]);
        print(io.out, table(rows, [4]));
        print(io.out, `\n${found.length} dead message(s)${found.length === options.limit ? ` (the first ${options.limit}; raise --limit for more)` : ''}`);
      });
    });

  dead
    .command('show')
    .description('show one message (any state) with its last error, attempts, headers and payload')
    .argument('<id>', 'the message id')
    .addOption(new Option('--side <side>', 'look only in the outbox or the inbox').argParser(side))
    .option('--source <source>', 'the sender of the message; needed when several inbox sources used the same id')
    .option('--json', 'print the message as JSON')
    .addHelpText('after', '\nExamples:\n  messagebox dead show 0190b7c2-8f5e-7cc1-a5b3-3f1f0d0c9a11\n  messagebox dead show order-42 --side inbox --source billing')
    .action(async (id: string, options: { side?: 'outbox' | 'inbox'; source?: string; json?: boolean }, command: Command) => {
      await withConfig(command.optsWithGlobals<GlobalOptions>(), io, 'reading the message', async (context) => {
        const message = await context.operations().show(id, { ...(options.side ? { side: options.side } : {}), ...(options.source !== undefined ? { source: options.source } : {}) });
        if (!message) {
          throw new CliError(`no message with id ${id}${options.source !== undefined ? ` from ${options.source}` : ''} in the ${options.side ?? 'outbox or inbox'}`, {
            exitCode: ExitCode.failed,
            hint: 'list dead messages with `messagebox dead list`; sent and processed ones may have been purged',
          });
        }
        print(io.out, options.json ? json(message) : describeMessage(message));
      });
    });

  addFilters(dead.command('replay'))
    .description('put dead messages back to be tried again (attempts reset); by ids, by filter, or --all')
    .argument('[ids...]', 'ids of the messages to replay')
    .option('--all', 'replay every dead message matching the filters (required when no ids and no filter are given)')
    .option('--dry-run', 'list what would be replayed, change nothing')
    .addHelpText(
      'after',
      `
Replayed outbox messages are sent by a running worker or the next
\`messagebox resend\`; replayed inbox messages are handled by a running worker.

Examples:
  messagebox dead replay 0190b7c2-… 0190b7c3-…
  messagebox dead replay --type payment.created --error ECONNREFUSED
  messagebox dead replay order-42 --side inbox --source billing
  messagebox dead replay --all

An inbox message is identified by its source and id: an id that several
sources used needs --source.`,
    )
    .action(async (ids: string[], options: FilterOptions & { all?: boolean; dryRun?: boolean }, command: Command) => {
      const filter = toFilter(options, ids);
      const selective = filter.ids || filter.source !== undefined || filter.type !== undefined || filter.olderThanMs !== undefined || filter.errorContains !== undefined;
      if (!selective && !options.all && !options.dryRun) {
        throw new CliError('say which dead messages to replay', {
          exitCode: ExitCode.usage,
          hint: 'give message ids, a filter (--type, --older-than, --error), or --all to replay every dead message',
        });
      }
      await withConfig(command.optsWithGlobals<GlobalOptions>(), io, 'replaying dead messages', async (context) => {
        const ops = context.operations();
        if (options.dryRun) {
          const found = await ops.listDead({ ...filter, limit: Number.MAX_SAFE_INTEGER });
          for (const m of found) print(io.out, `${m.side}  ${m.source}  ${m.id}  ${m.type}`);
          return print(io.out, `would replay ${found.length} dead message(s); nothing changed`);
        }
        const counts = await ops.replayDead({ ...filter, all: Boolean(options.all) });
        print(
          io.out,
          `replayed ${counts.total} dead message(s) (outbox ${counts.outbox}, inbox ${counts.inbox})` +
            (counts.total ? '; a running worker or the next `messagebox resend` picks them up' : ''),
        );
      });
    });
}

function timeOf(m: StoredMessage): number {
  return (m.side === 'inbox' ? m.receivedAt : m.createdAt).getTime();
}

export function describeMessage(m: StoredMessage): string {
  const rows: string[][] = [
    ['side', m.side],
    ['id', m.id],
    ['type', m.type],
    ['source', m.source],
    ...(m.key !== undefined ? [['key', oneLine(m.key)]] : []),
    ['status', m.status],
    ['attempts', String(m.attempts)],
    ['created', m.createdAt.toISOString()],
  ];
  if (m.side === 'inbox') rows.push(['received', m.receivedAt.toISOString()]);
  if (m.status !== 'dead' && m.side === 'outbox' && m.status === 'pending') rows.push(['next attempt', m.availableAt.toISOString()]);
  if (m.side === 'outbox' && m.sentAt) rows.push(['sent', m.sentAt.toISOString()]);
  if (m.side === 'inbox' && m.processedAt) rows.push(['processed', m.processedAt.toISOString()]);
  if (m.leaseUntil) rows.push(['claimed until', m.leaseUntil.toISOString()]);
  rows.push(['last error', m.lastError == null ? '(none)' : oneLine(m.lastError)]);
  const headers = Object.entries(m.headers);
  rows.push(['headers', headers.length ? headers.map(([k, v]) => `${oneLine(k)}: ${oneLine(v)}`).join('\n') : '(none)']);
  const width = Math.max(...rows.map(([k]) => k!.length));
  const indent = ' '.repeat(width + 2);
  const lines = rows.map(([k, v]) => `${k!.padEnd(width)}  ${v!.split('\n').join(`\n${indent}`)}`);
  lines.push('payload', json(m.payload));
  return lines.join('\n');
}
