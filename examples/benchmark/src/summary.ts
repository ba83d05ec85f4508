import type { BenchmarkOptions } from './options.js';
import type { BenchmarkResults } from './run-benchmark.js';
import type { DrainResult } from './run-drain.js';
import { spread, type Spread } from './stats.js';
import { DELIVERY_CONFIGS } from './variants.js';

export interface DrainSummary {
  variant: string;
  ceiling: string;
  acknowledgedPerSecond: Spread;
  handledPerSecond: Spread;
  /** Median acknowledged msg/s over the median ceiling msg/s. */
  acknowledgedVsCeiling: number;
  handledVsCeiling: number;
  senderStatementsPerMessage: Spread;
  receiverStatementsPerMessage: Spread;
  /** The receiver's statements per message on its receive path, its handle path, and of that the handler's own (see `StatementCounts`). */
  receiveStatementsPerMessage: Spread;
  handleStatementsPerMessage: Spread;
  handlerStatementsPerMessage: Spread;
  /** Whether the receiver ran batch handlers (the handle target is then 0.2 plus the handler's own, not 3). */
  batchHandlers: boolean;
  senderTransactionsPerMessage: Spread;
  receiverTransactionsPerMessage: Spread;
  /** Postgres: commits + rollbacks per message in each side's database, from pg_stat_database. */
  senderPgTransactionsPerMessage?: Spread;
  receiverPgTransactionsPerMessage?: Spread;
  /** All sender processes together. */
  senderCpuMsPerMessage: Spread;
  /** Each sender process (the median over rounds of their mean). */
  senderCpuMsPerMessagePerProcess: Spread;
  receiverCpuMsPerMessage: Spread;
  /** Postgres on this machine: CPU of each side's database backends per message. */
  senderDatabaseCpuMsPerMessage?: Spread;
  receiverDatabaseCpuMsPerMessage?: Spread;
  senderPeakRssMiB: Spread;
  receiverPeakRssMiB: Spread;
  /** Warnings and errors logged over all rounds, by message. */
  logs: { sender: Record<string, number>; receiver: Record<string, number> };
}

export interface CeilingSummary {
  variant: string;
  perSecond: Spread;
  serverStatementsPerMessage: Spread;
  serverTransactionsPerMessage: Spread;
  serverCpuMsPerMessage: Spread;
  clientCpuMsPerMessage: Spread;
  /** Postgres on this machine: the server's database backends, CPU ms per message. */
  serverDatabaseCpuMsPerMessage?: Spread;
}

export interface LatencySummary {
  variant: string;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  enqueueWithAddP50Ms: Spread;
  enqueueWithoutAddP50Ms: Spread;
  enqueueRatioP50: Spread;
  enqueueByHandP50Ms: Spread;
  enqueueByHandRatioP50: Spread;
}

export interface ScalingSummary {
  variant: string;
  smallMessages: number;
  bigMessages: number;
  /** Handled time of the big drain over the median handled time of the small one (linear = 10). */
  handledTimeRatio: number;
  smallHandledMs: number;
  bigHandledMs: number;
  senderRssRatio: number;
  receiverRssRatio: number;
  /** Heap used after a full GC once drained, big over the small drains' median (≈ 1 unless something is kept per message); NaN for runs without it. */
  senderHeapRatio: number;
  receiverHeapRatio: number;
}

export interface Summary {
  drains: DrainSummary[];
  ceilings: CeilingSummary[];
  latency: LatencySummary[];
  scaling: ScalingSummary[];
}

function groupBy<T extends { variant: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.variant, [...(groups.get(item.variant) ?? []), item]);
  return groups;
}

function sumLogs(items: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const logs of items) for (const [k, v] of Object.entries(logs)) out[k] = (out[k] ?? 0) + v;
  return out;
}

const ceilingOf = (variant: string) => variant.replace(/^(\w+) .*, (\d+) senders?$/, (_, dialect: string, n: string) => `${dialect} ceiling, ${n} client${n === '1' ? '' : 's'}`);

export function summarize(runs: BenchmarkResults['runs'], options: Pick<BenchmarkOptions, 'messages'>): Summary {
  const ceilings: CeilingSummary[] = [...groupBy(runs.ceilings)].map(([variant, rs]) => ({
    variant,
    perSecond: spread(rs.map((r) => r.perSecond)),
    serverStatementsPerMessage: spread(rs.map((r) => r.server.statementsPerMessage)),
    serverTransactionsPerMessage: spread(rs.map((r) => r.server.transactionsPerMessage)),
    serverCpuMsPerMessage: spread(rs.map((r) => r.server.cpuMsPerMessage)),
    clientCpuMsPerMessage: spread(rs.map((r) => r.clients.cpuMsPerMessage)),
    ...(rs.every((r) => r.server.databaseCpuMsPerMessage !== undefined) ? { serverDatabaseCpuMsPerMessage: spread(rs.map((r) => r.server.databaseCpuMsPerMessage!)) } : {}),
  }));
  const drains: DrainSummary[] = [...groupBy(runs.drains)].map(([variant, rs]) => {
    const ceiling = ceilingOf(variant);
    const ceilingRate = ceilings.find((c) => c.variant === ceiling)?.perSecond.median ?? Number.NaN;
    const acknowledgedPerSecond = spread(rs.map((r) => r.acknowledgedPerSecond));
    const handledPerSecond = spread(rs.map((r) => r.handledPerSecond));
    const pg = (pick: (r: DrainResult) => number | undefined) => {
      const values = rs.map(pick);
      return values.every((v) => v !== undefined) ? spread(values as number[]) : undefined;
    };
    const senderPg = pg((r) => r.sender.pgTransactionsPerMessage);
    const senderDbCpu = pg((r) => r.sender.databaseCpuMsPerMessage);
    const receiverDbCpu = pg((r) => r.receiver.databaseCpuMsPerMessage);
    const receiverPg = pg((r) => r.receiver.pgTransactionsPerMessage);
    return {
      variant,
      ceiling,
      acknowledgedPerSecond,
      handledPerSecond,
      acknowledgedVsCeiling: acknowledgedPerSecond.median / ceilingRate,
      handledVsCeiling: handledPerSecond.median / ceilingRate,
      senderStatementsPerMessage: spread(rs.map((r) => r.sender.statementsPerMessage)),
      receiverStatementsPerMessage: spread(rs.map((r) => r.receiver.statementsPerMessage)),
      receiveStatementsPerMessage: spread(rs.map((r) => r.receiver.receiveStatementsPerMessage ?? Number.NaN)),
      handleStatementsPerMessage: spread(rs.map((r) => r.receiver.handleStatementsPerMessage ?? Number.NaN)),
      handlerStatementsPerMessage: spread(rs.map((r) => r.receiver.handlerStatementsPerMessage ?? Number.NaN)),
      batchHandlers: rs.some((r) => r.delivery !== undefined && DELIVERY_CONFIGS[r.delivery]?.batchHandler !== undefined),
      senderTransactionsPerMessage: spread(rs.map((r) => r.sender.transactionsPerMessage)),
      receiverTransactionsPerMessage: spread(rs.map((r) => r.receiver.transactionsPerMessage)),
      ...(senderPg ? { senderPgTransactionsPerMessage: senderPg } : {}),
      ...(receiverPg ? { receiverPgTransactionsPerMessage: receiverPg } : {}),
      senderCpuMsPerMessage: spread(rs.map((r) => r.sender.cpuMsPerMessage)),
      senderCpuMsPerMessagePerProcess: spread(rs.map((r) => r.sender.cpuMsPerMessage / r.sender.processes)),
      receiverCpuMsPerMessage: spread(rs.map((r) => r.receiver.cpuMsPerMessage)),
      ...(senderDbCpu ? { senderDatabaseCpuMsPerMessage: senderDbCpu } : {}),
      ...(receiverDbCpu ? { receiverDatabaseCpuMsPerMessage: receiverDbCpu } : {}),
      senderPeakRssMiB: spread(rs.map((r) => r.sender.peakRssMiB)),
      receiverPeakRssMiB: spread(rs.map((r) => r.receiver.peakRssMiB)),
      logs: { sender: sumLogs(rs.map((r) => r.sender.logs)), receiver: sumLogs(rs.map((r) => r.receiver.logs)) },
    };
  });
  const latency: LatencySummary[] = [...groupBy(runs.latency)].map(([variant, rs]) => ({
    variant,
    p50: spread(rs.map((r) => r.commitToHandlerStartMs.p50)),
    p95: spread(rs.map((r) => r.commitToHandlerStartMs.p95)),
    p99: spread(rs.map((r) => r.commitToHandlerStartMs.p99)),
    enqueueWithAddP50Ms: spread(rs.map((r) => r.enqueue.withAddP50Ms)),
    enqueueWithoutAddP50Ms: spread(rs.map((r) => r.enqueue.withoutAddP50Ms)),
    enqueueRatioP50: spread(rs.map((r) => r.enqueue.ratioP50)),
    enqueueByHandP50Ms: spread(rs.map((r) => r.enqueue.byHandP50Ms)),
    enqueueByHandRatioP50: spread(rs.map((r) => r.enqueue.byHandRatioP50)),
  }));
  const scaling: ScalingSummary[] = runs.full.map((big) => {
    const small = groupBy(runs.drains).get(big.variant) ?? [];
    const median = (pick: (r: DrainResult) => number) => spread(small.map(pick)).median;
    return {
      variant: big.variant,
      smallMessages: options.messages,
      bigMessages: big.messages,
      handledTimeRatio: big.handledMs / median((r) => r.handledMs),
      smallHandledMs: median((r) => r.handledMs),
      bigHandledMs: big.handledMs,
      senderRssRatio: big.sender.peakRssMiB / median((r) => r.sender.peakRssMiB),
      receiverRssRatio: big.receiver.peakRssMiB / median((r) => r.receiver.peakRssMiB),
      senderHeapRatio: (big.sender.heapAfterGcMiB ?? Number.NaN) / median((r) => r.sender.heapAfterGcMiB ?? Number.NaN),
      receiverHeapRatio: (big.receiver.heapAfterGcMiB ?? Number.NaN) / median((r) => r.receiver.heapAfterGcMiB ?? Number.NaN),
    };
  });
  return { drains, ceilings, latency, scaling };
}
