import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchmarkResults } from './run-benchmark.js';
import { round, type Spread } from './stats.js';

/** A drain through a broker (broker-variants.ts names them `<dialect> <broker> <delivery>, …`). */
const BROKER_ROW = /^\w+ (amqp|nats) /;
const fmt = (value: number, digits: number) => (Number.isFinite(value) ? (digits === 0 ? Math.round(value).toLocaleString('en-US') : round(value, digits).toFixed(digits)) : '–');
/** "median (min–max)" for the rates; the median alone for the rest (the JSON has every value). */
const s = (x: Spread | undefined, digits = 0) => (x ? fmt(x.median, digits) : '–');
const r = (x: Spread | undefined, digits = 0) =>
  x ? (x.values.length > 1 && fmt(x.min, digits) !== fmt(x.max, digits) ? `${fmt(x.median, digits)} (${fmt(x.min, digits)}–${fmt(x.max, digits)})` : fmt(x.median, digits)) : '–';

/** The results as Markdown tables: what the README's Performance section shows. */
export function markdown(results: BenchmarkResults): string {
  const { summary, machine, options } = results;
  const lines: string[] = [];
  lines.push(
    `${options.messages.toLocaleString('en-US')} messages per run, ${options.repeats} interleaved rounds: msg/s and latency as median (min–max), the rest as medians. ` +
      `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}; load average ${machine.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')} at start. ` +
      `${results.startedAt.slice(0, 16).replace('T', ' ')} UTC.` +
      (options.dialects.includes('sqlite') ? ` SQLite: WAL, synchronous = ${(options.sqliteSynchronous ?? 'normal').toUpperCase()}.` : ''),
  );
  const drainsFrom = lines.length;
  lines.push(
    '',
    '| variant | acknowledged msg/s | handled msg/s | × ceiling (ack / handled) | statements/msg sender / receiver | transactions/msg sender / receiver¹ | CPU ms/msg senders (all / each) / receiver | Postgres backend CPU ms/msg sender / receiver | peak RSS MiB sender / receiver |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const c of summary.ceilings) {
    lines.push(`| **${c.variant}** (one INSERT per POST) | ${r(c.perSecond)} | – | 1.00 | – / ${s(c.serverStatementsPerMessage, 2)} | – / ${s(c.serverTransactionsPerMessage, 2)} | clients ${s(c.clientCpuMsPerMessage, 2)} / server ${s(c.serverCpuMsPerMessage, 2)} | ${c.serverDatabaseCpuMsPerMessage ? `– / ${s(c.serverDatabaseCpuMsPerMessage, 2)}` : '–'} | – |`);
    for (const d of summary.drains.filter((d) => d.ceiling === c.variant)) {
      const transactions = `${s(d.senderTransactionsPerMessage, 2)} / ${s(d.receiverTransactionsPerMessage, 2)}`;
      lines.push(
        `| ${d.variant} | ${r(d.acknowledgedPerSecond)} | ${r(d.handledPerSecond)} | ${fmt(d.acknowledgedVsCeiling, 2)} / ${fmt(d.handledVsCeiling, 2)} | ` +
          `${s(d.senderStatementsPerMessage, 2)} / ${s(d.receiverStatementsPerMessage, 2)} | ${transactions} | ` +
          `${s(d.senderCpuMsPerMessage, 2)} / ${s(d.senderCpuMsPerMessagePerProcess, 2)} / ${s(d.receiverCpuMsPerMessage, 2)} | ${d.senderDatabaseCpuMsPerMessage ? `${s(d.senderDatabaseCpuMsPerMessage, 2)} / ${s(d.receiverDatabaseCpuMsPerMessage, 2)}` : '–'} | ${s(d.senderPeakRssMiB)} / ${s(d.receiverPeakRssMiB)} |`,
      );
    }
  }
  for (const d of summary.drains.filter((d) => !summary.ceilings.some((c) => c.variant === d.ceiling))) {
    lines.push(`| ${d.variant} | ${r(d.acknowledgedPerSecond)} | ${r(d.handledPerSecond)} | – | ${s(d.senderStatementsPerMessage, 2)} / ${s(d.receiverStatementsPerMessage, 2)} | – | – | – | – |`);
  }
  lines.push(
    '',
    'Acknowledged: the receiver stored and answered every message; handled: every handler committed; both from the moment the sender workers start on the pre-inserted backlog. ' +
      'Statements are counted in each process at the driver (BEGIN/COMMIT included). ' +
      '¹ Counted too: every BEGIN plus every statement outside a transaction (autocommit); on Postgres the JSON has the pg_stat_database xact_commit + xact_rollback deltas of each side as a cross-check. ' +
      'CPU: `process.cpuUsage()` of the Node processes; Postgres backends from /proc (server on this machine only).',
  );
  // `--only=latency`: no drain table.
  if (!summary.ceilings.length && !summary.drains.length) lines.length = drainsFrom;
  if (summary.drains.length) {
    lines.push(
      '',
      "Statements per message against the targets, counted at the driver: the receiver's receive path (every statement of the transactions that insert into the inbox), its handle path (the rest: BEGIN, the handler's own statements, the processed mark, COMMIT, claims) and, of that, the handler's own; the sender's.",
      '',
      "| variant | receive (≤ 1.2) | handle | handler's own | handle − own (≤ 3; batch handlers ≤ 0.2) | sender (≤ 0.1) |",
      '|---|---|---|---|---|---|',
    );
    for (const d of summary.drains) {
      const beyond = (d.handleStatementsPerMessage?.median ?? Number.NaN) - (d.handlerStatementsPerMessage?.median ?? Number.NaN);
      const target = d.batchHandlers ? 0.2 : 3;
      // Judged as printed (two decimals): 3.001 statements is shown and counted as 3.00.
      const mark = (value: number, bound: number) => (Number.isFinite(value) ? ` ${round(value, 2) <= bound ? '✓' : '✗'}` : '');
      lines.push(
        `| ${d.variant} | ${s(d.receiveStatementsPerMessage, 2)}${mark(d.receiveStatementsPerMessage?.median ?? Number.NaN, 1.2)} | ${s(d.handleStatementsPerMessage, 2)} | ${s(d.handlerStatementsPerMessage, 2)} | ` +
          `${fmt(beyond, 2)}${mark(beyond, target)} | ${s(d.senderStatementsPerMessage, 2)}${mark(d.senderStatementsPerMessage.median, 0.1)} |`,
      );
    }
  }
  if (summary.drains.some((d) => BROKER_ROW.test(d.variant))) {
    lines.push(
      '',
      'amqp / nats rows: the same drain with the sender\'s outbox publishing to RabbitMQ (publisher confirms) or NATS JetStream (PubAck) and the receiver\'s broker consumer feeding its inbox (`src/broker-routes.ts`); × ceiling compares them with the HTTP ceiling of the same sender count.',
    );
  }
  if (summary.latency.length) {
    lines.push(
      '',
      `Unloaded, one message at a time (${options.latencySamples} samples per round): commit → handler start, and the enqueue overhead (a transaction inserting one business row, with \`add\` vs without; p50). "Row by hand": the same transaction inserting the row \`add\` writes (same table, columns and values) with its own INSERT, the database's cost of the row whoever writes it.`,
      '',
      '| variant | commit → handler p50 ms | p95 ms | p99 ms | transaction with add ms | without ms | overhead × | row by hand ms | by hand × |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const l of summary.latency) {
      lines.push(`| ${l.variant} | ${r(l.p50, 2)} | ${r(l.p95, 2)} | ${r(l.p99, 2)} | ${r(l.enqueueWithAddP50Ms, 2)} | ${r(l.enqueueWithoutAddP50Ms, 2)} | ${r(l.enqueueRatioP50, 2)} | ${r(l.enqueueByHandP50Ms, 2)} | ${r(l.enqueueByHandRatioP50, 2)} |`);
    }
  }
  lines.push('');
  if (summary.scaling.length) {
    lines.push('| drain | handled time small / big (s) | × (linear = 10) | peak RSS × sender / receiver | heap after GC × sender / receiver |', '|---|---|---|---|---|');
    for (const x of summary.scaling) {
      lines.push(`| ${x.variant}, ${x.smallMessages.toLocaleString('en-US')} vs ${x.bigMessages.toLocaleString('en-US')} | ${fmt(x.smallHandledMs / 1000, 1)} / ${fmt(x.bigHandledMs / 1000, 1)} | ${fmt(x.handledTimeRatio, 2)} | ${fmt(x.senderRssRatio, 2)} / ${fmt(x.receiverRssRatio, 2)} | ${fmt(x.senderHeapRatio, 2)} / ${fmt(x.receiverHeapRatio, 2)} |`);
    }
  } else {
    lines.push(`Drain of ${(options.messages * 10).toLocaleString('en-US')} vs ${options.messages.toLocaleString('en-US')}: not measured (run with \`--full\`).`);
  }
  const logLines = summary.drains.flatMap((d) =>
    (['sender', 'receiver'] as const).flatMap((side) => Object.entries(d.logs[side]).map(([text, n]) => `- ${d.variant}, ${side}: ${n.toLocaleString('en-US')} × "${text}"`)),
  );
  if (logLines.length) lines.push('', 'Warnings and errors logged (all rounds):', '', ...logLines);
  return `${lines.join('\n')}\n`;
}

/** Writes `<dir>/end-to-end.json` and `<dir>/end-to-end.md`; returns their paths. */
export function writeResults(dir: string, results: BenchmarkResults): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'end-to-end.json');
  const md = join(dir, 'end-to-end.md');
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(md, `# messagebox end-to-end benchmark\n\n${markdown(results)}`);
  rmSync(join(dir, 'end-to-end.partial.json'), { force: true });
  return [json, md];
}

/** After every run: the runs so far in `<dir>/end-to-end.partial.json`, so a failed or interrupted benchmark keeps what it measured. */
export function writePartialRuns(dir: string, runs: BenchmarkResults['runs']): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'end-to-end.partial.json'), `${JSON.stringify({ at: new Date().toISOString(), runs }, null, 2)}\n`);
}
