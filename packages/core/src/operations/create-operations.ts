import { systemClock, type Clock } from '../clock.js';
import { MessageboxError } from '../errors.js';
import type { DeliveryReport } from '../outbox/outbox-report.js';
import type { RecordFilter } from '../ports/claim.js';
import type { InboxRecord, InboxStatus } from '../ports/inbox-store.js';
import type { DestinationRecord, OutboxStatus } from '../ports/outbox-store.js';
import { purgeInBatches } from '../retention.js';
import { createRetryPolicy, longestRetrySpanMs, type RetryPolicyOptions } from '../retry-policy.js';
import { formatDuration } from './duration.js';
import { toRecordFilter } from './record-filter.js';
import { countDead, pageDead, type DeadPage, type DeadPageOptions } from './dead-pages.js';
import { overviewOf, type OverviewOptions, type OverviewReport } from './overview.js';
import { resolveTargets, sidesOf, type MessageboxSide, type OperationTargets, type ResolvedTargets, type StoredMessage } from './targets.js';

/**
 * Options of {@link createOperations}.
 *
 * @example
 * createOperations({ outbox }, { clock: { now: () => Date.parse('2030-01-01') } })
 */
export interface OperationsOptions {
  /** Where ages are measured from. Default: the system clock. */
  clock?: Clock;
}

/**
 * A message that failed at least once: still retrying, or dead.
 *
 * @example
 * for (const m of (await ops.status()).outbox?.recentErrors ?? []) console.log(m.id, m.lastError);
 */
export interface FailingMessage {
  side: MessageboxSide;
  id: string;
  type: string;
  status: OutboxStatus | InboxStatus;
  attempts: number;
  lastError: string;
  createdAt: Date;
  /** When it is due again; null for dead messages. */
  nextAttemptAt: Date | null;
}

/**
 * Counts and health of the outbox.
 *
 * @example
 * const { pending, oldestPendingAgeMs } = (await ops.status()).outbox!;
 */
export interface OutboxStatusReport {
  pending: number;
  sent: number;
  dead: number;
  oldestPendingAt: Date | null;
  /** Age of the oldest pending message, in ms; null when nothing is pending. */
  oldestPendingAgeMs: number | null;
  recentErrors: FailingMessage[];
  /**
   * Circuit breakers and busy pauses, one row per destination and outbox
   * worker, as the workers last wrote them (on every change; a worker's rows
   * go when it stops). Empty when none was written, or the store cannot
   * keep them (no `listDestinationStates`).
   */
  destinations: DestinationRecord[];
}

/** The destination states of `store`; none when it keeps none, or cannot read them (a database without migration 0006: the counts still show). */
async function destinationStates(store: { listDestinationStates?(): Promise<DestinationRecord[]> }): Promise<DestinationRecord[]> {
  try {
    return (await store.listDestinationStates?.()) ?? [];
  } catch {
    return [];
  }
}

/**
 * Counts and health of the inbox.
 *
 * @example
 * const { received, dead } = (await ops.status()).inbox!;
 */
export interface InboxStatusReport {
  received: number;
  processed: number;
  dead: number;
  oldestPendingAt: Date | null;
  oldestPendingAgeMs: number | null;
  recentErrors: FailingMessage[];
}

/**
 * What {@link MessageboxOperations.status} reports; sides that are not
 * configured are absent. `JSON.stringify` gives what `messagebox status --json` prints.
 *
 * @example
 * const report = await ops.status();
 * if ((report.outbox?.oldestPendingAgeMs ?? 0) > 600_000) alert('outbox is stuck');
 */
export interface StatusReport {
  checkedAt: Date;
  outbox?: OutboxStatusReport;
  inbox?: InboxStatusReport;
}

/**
 * Options of {@link MessageboxOperations.status}.
 *
 * @example
 * await ops.status({ errors: 10 })
 */
export interface StatusOptions {
  /** Most failing messages listed per side. Default 5. */
  errors?: number;
  /** Rows looked at per status to find them. Default 200. */
  scanLimit?: number;
}

/**
 * Selects dead messages. Without `side`, both sides are searched.
 *
 * @example
 * await ops.listDead({ side: 'outbox', type: 'payment.created', olderThanMs: parseDuration('1h'), errorContains: '503' })
 */
export interface DeadMessageFilter {
  side?: MessageboxSide;
  type?: string;
  /** Only messages created (outbox) or received (inbox) longer ago than this, in ms. */
  olderThanMs?: number;
  /** Only messages whose last error contains this text (case-sensitive). */
  errorContains?: string;
  /**
   * Only messages from this source. Inbox messages are identified by
   * `(source, id)`: with `ids` and no `source`, an id held by several inbox
   * sources is ambiguous, and `replayDead` refuses it (`invalid_options`).
   */
  source?: string;
  ids?: readonly string[];
  /** Most messages returned, over both sides. Default 100. */
  limit?: number;
}

/**
 * Which dead messages {@link MessageboxOperations.replayDead} puts back.
 *
 * @example
 * await ops.replayDead({ ids: ['0190b7c2-…'] });
 * await ops.replayDead({ all: true });
 */
export interface ReplayOptions extends Omit<DeadMessageFilter, 'limit'> {
  /** Required to replay every dead message when no ids and no filter are given. */
  all?: boolean;
}

/**
 * How many messages were touched on each side.
 *
 * @example
 * const { total } = await ops.replayDead({ type: 'payment.created' });
 */
export interface SideCounts {
  outbox: number;
  inbox: number;
  total: number;
}

/**
 * Options of {@link MessageboxOperations.purge}.
 *
 * @example
 * await ops.purge({ olderThanMs: parseDuration('7d'), batchSize: 500, onProgress: ({ side, deleted }) => log(side, deleted) })
 */
export interface PurgeOperationOptions {
  /** Deletes sent (outbox) and processed (inbox) messages that finished longer ago than this, in ms. */
  olderThanMs: number;
  side?: MessageboxSide;
  /** Rows deleted per statement. Default 1 000. */
  batchSize?: number;
  /** Stop after this many rows per side (e.g. to bound one cron run). Default: no limit. */
  maxRows?: number;
  /** Called after every batch with the running total of the side being purged. */
  onProgress?: (progress: { side: MessageboxSide; deleted: number }) => void;
  /** Your senders' retry policy, to warn when inbox ids would be purged before senders stop retrying. Default: messagebox's default policy. */
  senderRetry?: RetryPolicyOptions;
}

/**
 * What a purge deleted.
 *
 * @example
 * const { outbox, inbox, warnings } = await ops.purge({ olderThanMs: parseDuration('30d') });
 */
export interface PurgeReport extends SideCounts {
  /** Things an operator should know, e.g. an inbox purge shorter than the senders' retry span. */
  warnings: string[];
}

/**
 * Options of {@link MessageboxOperations.resend}.
 *
 * @example
 * await ops.resend({ maxMessages: 10_000, onProgress: (r) => log(`${r.sent} sent`) })
 */
export interface ResendOptions {
  /** Stop after attempting this many messages. Default: every due message. */
  maxMessages?: number;
  /** Called after each attempt with the counts so far. */
  onProgress?: (report: DeliveryReport) => void;
}

/**
 * A resend pass: what it did, and what is left.
 *
 * @example
 * const { sent, retried, remaining } = await ops.resend();
 */
export interface ResendReport extends DeliveryReport {
  durationMs: number;
  /** Outbox counts after the pass. */
  remaining: { pending: number; dead: number; oldestPendingAt: Date | null };
}

/**
 * The operator's toolbox, for a job scheduler or the `messagebox` CLI: status,
 * dead letters, replay, purge and resend. A thin layer over the stores.
 *
 * @example
 * const ops = createOperations({ outbox, inbox });
 * setInterval(() => void ops.resend(), 60_000);
 * const dead = (await ops.status()).outbox?.dead;
 * await ops.replayDead({ type: 'payment.created', errorContains: 'ECONNREFUSED' });
 */
export interface MessageboxOperations {
  /** Counts by state, age of the oldest pending message, recent errors. */
  status(options?: StatusOptions): Promise<StatusReport>;
  /** Dead messages matching `filter`, oldest first. */
  listDead(filter?: DeadMessageFilter): Promise<StoredMessage[]>;
  /**
   * One message, whatever its state (outbox first unless `side` is given), or
   * null. In the inbox a message is `(source, id)`: without `source`, an id
   * that several sources used throws `invalid_options` naming them.
   */
  show(id: string, options?: { side?: MessageboxSide; source?: string }): Promise<StoredMessage | null>;
  /**
   * Puts dead messages back to be tried again (attempts reset, due now).
   * Throws `invalid_options` when given neither ids, a filter nor `all: true`,
   * and when an id (without `source`) names dead inbox messages of several sources.
   */
  replayDead(options: ReplayOptions): Promise<SideCounts>;
  /** Deletes finished messages older than a retention age, in bounded batches. Dead messages are kept. */
  purge(options: PurgeOperationOptions): Promise<PurgeReport>;
  /** One `resendUnsentMessages()` pass with a report; needs the outbox service. */
  resend(options?: ResendOptions): Promise<ResendReport>;
  /** Counts by side and type (waiting, in flight, finished, dead, oldest waiting age, attempts) and throughput per bucket; needs stores with `overview()`. */
  overview(options?: OverviewOptions): Promise<OverviewReport>;
  /** One side's dead messages matching a filter, a page at a time (keyset paging), oldest first. */
  pageDead(options: DeadPageOptions): Promise<DeadPage>;
  /** How many dead messages match a filter (what `replayDead` with the same filter would replay now); needs stores with `count()`. */
  countDead(filter?: Omit<DeadMessageFilter, 'limit'>): Promise<SideCounts>;
}

/**
 * Creates the operations over an outbox and/or an inbox.
 *
 * @example
 * const ops = createOperations({ outbox: storage.outbox, inbox: storage.inbox });
 * console.log(await ops.listDead({ olderThanMs: parseDuration('1d') }));
 */
export function createOperations(targets: OperationTargets, options: OperationsOptions = {}): MessageboxOperations {
  const resolved = resolveTargets(targets);
  const clock = options.clock ?? systemClock;

  return {
    async status(opts = {}) {
      const errors = opts.errors ?? 5;
      const scanLimit = opts.scanLimit ?? 200;
      const now = clock.now();
      const age = (at: Date | null) => (at === null ? null : Math.max(0, now - at.getTime()));
      const report: StatusReport = { checkedAt: new Date(now) };
      const { outboxStore, inboxStore } = resolved;
      await Promise.all([
        outboxStore &&
          (async () => {
            const [stats, recentErrors, destinations] = await Promise.all([outboxStore.stats(), failing(resolved, 'outbox', errors, scanLimit), destinationStates(outboxStore)]);
            report.outbox = { ...stats, oldestPendingAgeMs: age(stats.oldestPendingAt), recentErrors, destinations };
          })(),
        inboxStore &&
          (async () => {
            const [stats, recentErrors] = await Promise.all([inboxStore.stats(), failing(resolved, 'inbox', errors, scanLimit)]);
            report.inbox = { ...stats, oldestPendingAgeMs: age(stats.oldestPendingAt), recentErrors };
          })(),
      ]);
      return report;
    },

    async listDead(filter = {}) {
      const limit = filter.limit ?? 100;
      const found: StoredMessage[] = [];
      for (const side of sidesOf(resolved, filter.side)) {
        found.push(...(await list(resolved, side, { ...toRecordFilter(filter, clock), status: 'dead', limit })));
      }
      return found.sort((a, b) => timeOf(a) - timeOf(b) || a.id.localeCompare(b.id)).slice(0, limit);
    },

    async show(id, opts = {}) {
      if (typeof id !== 'string' || !id) throw new MessageboxError('invalid_options', 'show() needs a message id');
      const source = opts.source;
      if (source !== undefined && (typeof source !== 'string' || !source)) throw new MessageboxError('invalid_options', 'show(): source must be a non-empty string');
      for (const side of sidesOf(resolved, opts.side)) {
        if (side === 'outbox') {
          const record = await resolved.outboxStore!.get(id);
          if (record && (source === undefined || record.source === source)) return { ...record, side };
          continue;
        }
        const inbox = resolved.inboxStore!;
        const record = source !== undefined ? await inbox.get({ source, id }) : onlyOne(id, await inbox.list({ ids: [id], limit: AMBIGUITY_SCAN }));
        if (record) return { ...record, side };
      }
      return null;
    },

    async replayDead(opts) {
      const filter = toRecordFilter(opts, clock);
      const hasFilter = filter.ids !== undefined || filter.source !== undefined || filter.type !== undefined || filter.before !== undefined || filter.errorContains !== undefined;
      if (!hasFilter && !opts.all) {
        throw new MessageboxError('invalid_options', 'replay needs message ids, a filter (type, age, error) or `all: true` to replay every dead message');
      }
      if (filter.ids && filter.ids.length === 0) return { outbox: 0, inbox: 0, total: 0 };
      const sides = sidesOf(resolved, opts.side);
      if (sides.includes('inbox') && filter.ids && filter.source === undefined) {
        refuseAmbiguous(await resolved.inboxStore!.list({ ...filter, status: 'dead', limit: Number.MAX_SAFE_INTEGER }));
      }
      const counts: SideCounts = { outbox: 0, inbox: 0, total: 0 };
      for (const side of sides) {
        const { limit: _limit, status: _status, ...where } = filter;
        counts[side] = side === 'outbox' ? await resolved.outboxStore!.replay(where) : await resolved.inboxStore!.replay(where);
        counts.total += counts[side];
      }
      return counts;
    },

    async purge(opts) {
      if (!opts || !Number.isFinite(opts.olderThanMs) || opts.olderThanMs < 0) {
        throw new MessageboxError('invalid_options', `purge needs olderThanMs, a number of ms >= 0; got ${opts?.olderThanMs}`);
      }
      const batchSize = opts.batchSize ?? 1_000;
      if (!Number.isInteger(batchSize) || batchSize <= 0) throw new MessageboxError('invalid_options', `purge batchSize must be a positive integer, got ${batchSize}`);
      const report: PurgeReport = { outbox: 0, inbox: 0, total: 0, warnings: [] };
      for (const side of sidesOf(resolved, opts.side)) {
        const store = side === 'outbox' ? resolved.outboxStore! : resolved.inboxStore!;
        if (side === 'inbox') {
          const span = longestRetrySpanMs(createRetryPolicy(opts.senderRetry));
          if (opts.olderThanMs < span) {
            report.warnings.push(
              `inbox: purging ids after ${formatDuration(opts.olderThanMs)}, but senders may retry for up to ${formatDuration(span)}; a late retry of a purged message would be handled again`,
            );
          }
        }
        report[side] = await purgeInBatches((o) => store.purge(o), {
          olderThanMs: opts.olderThanMs,
          batchSize,
          ...(opts.maxRows !== undefined ? { maxRows: opts.maxRows } : {}),
          onProgress: (deleted) => opts.onProgress?.({ side, deleted }),
        });
        report.total += report[side];
      }
      return report;
    },

    overview: (opts) => overviewOf(resolved, clock, opts),
    pageDead: (opts) => pageDead(resolved, clock, opts),
    countDead: (filter = {}) => countDead(resolved, clock, filter),

    async resend(opts = {}) {
      const outbox = resolved.outbox;
      if (!outbox) {
        throw new MessageboxError('invalid_options', 'resend needs the outbox service (createOutbox(...) with its transports), not only its store');
      }
      const started = clock.now();
      const progress: DeliveryReport = { attempted: 0, sent: 0, retried: 0, dead: 0, fenced: 0, unrecorded: 0, deferred: 0 };
      const tick = (field: 'sent' | 'retried' | 'dead') => () => {
        progress.attempted++;
        progress[field]++;
        opts.onProgress?.({ ...progress });
      };
      const off = opts.onProgress ? [outbox.events.on('sent', tick('sent')), outbox.events.on('failed', tick('retried')), outbox.events.on('dead', tick('dead'))] : [];
      try {
        const report = await outbox.resendUnsentMessages(opts.maxMessages !== undefined ? { maxMessages: opts.maxMessages } : {});
        if (report.unrecorded > 0) {
          throw new MessageboxError(
            'store_failed',
            `the store failed while recording ${report.unrecorded} of ${report.attempted} attempts; they are retried once their lease expires`,
          );
        }
        const stats = await outbox.store.stats();
        return { ...report, durationMs: clock.now() - started, remaining: { pending: stats.pending, dead: stats.dead, oldestPendingAt: stats.oldestPendingAt } };
      } finally {
        for (const unsubscribe of off) unsubscribe();
      }
    },
  };
}

async function list(targets: ResolvedTargets, side: MessageboxSide, filter: RecordFilter<string>): Promise<StoredMessage[]> {
  if (side === 'outbox') {
    const rows = await targets.outboxStore!.list(filter as RecordFilter<OutboxStatus>);
    return rows.map((row) => ({ ...row, side }));
  }
  const rows = await targets.inboxStore!.list(filter as RecordFilter<InboxStatus>);
  return rows.map((row) => ({ ...row, side }));
}

/** How many inbox rows with one id `show` looks at to tell whether the id is ambiguous. */
const AMBIGUITY_SCAN = 100;

function onlyOne(id: string, rows: readonly InboxRecord[]): InboxRecord | null {
  refuseAmbiguous(rows);
  return rows.find((row) => row.id === id) ?? null;
}

/** Throws when one id names inbox rows of several sources: the caller must say which. */
function refuseAmbiguous(rows: readonly InboxRecord[]): void {
  const sources = new Map<string, Set<string>>();
  for (const row of rows) sources.set(row.id, (sources.get(row.id) ?? new Set()).add(row.source));
  const ambiguous = [...sources].filter(([, of]) => of.size > 1);
  if (ambiguous.length === 0) return;
  const described = ambiguous.map(([id, of]) => `${id} (sources: ${[...of].sort().join(', ')})`).join('; ');
  throw new MessageboxError('invalid_options', `inbox message id is ambiguous, several sources used it: ${described}; give the source`);
}

function timeOf(message: StoredMessage): number {
  return (message.side === 'inbox' ? message.receivedAt : message.createdAt).getTime();
}

async function failing(targets: ResolvedTargets, side: MessageboxSide, max: number, scanLimit: number): Promise<FailingMessage[]> {
  if (max <= 0) return [];
  const waiting = side === 'outbox' ? 'pending' : 'received';
  const [retrying, dead] = await Promise.all([list(targets, side, { status: waiting, limit: scanLimit }), list(targets, side, { status: 'dead', limit: scanLimit })]);
  const toFailing = (row: StoredMessage): FailingMessage => ({
    side,
    id: row.id,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError ?? '',
    createdAt: row.createdAt,
    nextAttemptAt: row.status === 'dead' ? null : row.availableAt,
  });
  return [...retrying.filter((row) => row.lastError !== null), ...dead.reverse()].slice(0, max).map(toFailing);
}
