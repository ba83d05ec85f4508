import { describeError, MessageboxError } from '../errors.js';
import { Events } from '../events.js';
import type { JsonValue } from '../json.js';
import { createMessage, newClaimToken, type Message } from '../message.js';
import type { ClaimedInboxMessage, InboxClaim, InboxStore } from '../ports/inbox-store.js';
import { createRetryPolicy, longestRetrySpanMs, type RetryPolicy, type RetryPolicyOptions } from '../retry-policy.js';
import { resolveServiceOptions, type ServiceOptions } from '../service-options.js';
import { exhaustedBeforeStart, settleFailure } from '../internal/settle-failure.js';
import { PeriodicTask } from '../internal/periodic-task.js';
import { WorkRunner } from '../internal/work-runner.js';
import type { Instrumentation } from '../instrumentation.js';
import { purgeInBatches, resolveRetention, type RetentionOptions } from '../retention.js';
import { GroupCommit } from './group-commit.js';
import type { InboxEventMap } from './inbox-events.js';

/** What a handler gets besides the message. */
export interface HandlerContext<Tx> {
  /** The transaction that marks the message processed: write with it so your changes commit together with that mark. */
  tx: Tx;
  /** 1 for the first run, 2 for the first retry… */
  attempt: number;
  /**
   * Aborted when `inbox.stop()` runs out of time while this handler runs:
   * pass it to what you await (`fetch(url, { signal })`) so the handler ends
   * and its transaction rolls back; the message is retried later. Never
   * aborted in inline mode (the handler runs inside the HTTP request).
   */
  signal: AbortSignal;
}

/** Runs for each newly received message of its type. Throw to have it retried. */
export type InboxHandler<Tx, P extends JsonValue = JsonValue> = (message: Message<P>, context: HandlerContext<Tx>) => Promise<void> | void;

export interface InboxOptions<Tx> extends ServiceOptions {
  store: InboxStore<Tx>;
  /**
   * `after-commit` (default): a message is stored and acknowledged, then its
   * handler runs in its own transaction, retried with backoff on failure.
   * `inline`: the handler runs inside the receiving transaction before the
   * answer; if it throws nothing is stored and the sender is told to retry.
   */
  mode?: 'after-commit' | 'inline';
  /** A message of a type with no handler: `reject` (default; 422 over HTTP) or `accept` (stored until a handler exists). */
  unknownTypes?: 'reject' | 'accept';
  /** Tracing and metrics hooks (see `@messagebox/opentelemetry`). */
  instrumentation?: Instrumentation;
  /**
   * How long processed rows are kept before the worker deletes them; `false`
   * keeps them forever. Default 7 days. Ids must outlive every retry a
   * sender can still make, or a late retry is handled twice.
   */
  retention?: RetentionOptions | false;
  /** The retry policy your senders use, to check retention against at start-up. Default: messagebox's default policy. */
  senderRetry?: RetryPolicyOptions;
  /**
   * Group commit of concurrent receives (after-commit mode, and inline mode
   * for types without a handler): receives that arrive while one batch is
   * being committed share the next transaction and one multi-row insert
   * (`store.receiveMany`), up to `maxMessages` each (default 100). Every
   * caller is still answered only once its own row is committed; a batch
   * whose transaction fails is received again one message at a time, so one
   * bad message fails only its own caller. `false`: one transaction per
   * receive. Inline mode with a handler always uses one transaction per
   * message (the handler runs in it).
   */
  groupCommit?: { maxMessages?: number } | false;
}

export interface HandlerOptions {
  /** Overrides fields of the inbox's retry policy for this type. */
  retry?: RetryPolicyOptions;
}

/** What `receive` did. */
export interface ReceiveResult {
  status: 'created' | 'duplicate';
}

/**
 * The receiving side: stores each message once (deduplicated by
 * `(source, id)`: the same id from two senders is two messages), then runs
 * the handler registered for its type.
 *
 * @example
 * const inbox = createInbox({ store: storage.inbox })
 *   .on('payment.created', async (message, { tx }) => {
 *     await tx.insertInto('ledger').values({ id: message.id }).execute();
 *   });
 * app.post('/inbox', honoInbox(inbox, { secret }));
 */
export interface Inbox<Tx> {
  readonly events: Events<InboxEventMap>;
  readonly store: InboxStore<Tx>;
  readonly mode: 'after-commit' | 'inline';

  /** Registers the handler for a type (one per type). Returns the inbox. */
  on<P extends JsonValue = JsonValue>(type: string, handler: InboxHandler<Tx, P>, options?: HandlerOptions): Inbox<Tx>;
  /** Whether `receive` takes messages of this type. */
  accepts(type: string): boolean;

  /**
   * Stores the message unless one with the same `(source, id)` is known. Rejects with `MessageboxError`:
   * `invalid_message`/`invalid_payload` for a malformed message,
   * `unknown_type` when no handler exists and `unknownTypes` is `reject`,
   * `handler_failed` in inline mode when the handler threw (nothing stored);
   * any other rejection means the store failed.
   */
  receive(message: Message): Promise<ReceiveResult>;

  /** One pass: runs handlers of every due message, batch after batch. Resolves with how many were attempted. */
  processDue(options?: { maxMessages?: number }): Promise<number>;

  start(): Promise<void>;
  /**
   * Stops gracefully, like `Outbox.stop` (`timeoutMs` overrides `shutdownTimeoutMs` for this call).
   * When time is up, the `signal` of every handler still running is aborted;
   * one that ignores it is left to finish on its own (its transaction commits
   * or rolls back as usual). Resolves true when everything finished in time.
   */
  stop(options?: { timeoutMs?: number }): Promise<boolean>;
  idle(): Promise<void>;
}

const neverAborted = new AbortController().signal;

interface Job {
  message: Message;
  claim: InboxClaim;
  attempts: number;
  /** When this inbox received it: `maxAgeMs` counts from here, not from the sender's clock. */
  receivedAt: Date;
}

export function createInbox<Tx>(options: InboxOptions<Tx>): Inbox<Tx> {
  if (!options?.store) throw new MessageboxError('invalid_options', 'createInbox needs a `store`');
  const store = options.store;
  const config = resolveServiceOptions(options, 'createInbox');
  const { clock, logger } = config;
  const mode = options.mode ?? 'after-commit';
  const unknownTypes = options.unknownTypes ?? 'reject';
  if (mode !== 'after-commit' && mode !== 'inline') throw new MessageboxError('invalid_options', `createInbox: mode must be "after-commit" or "inline", got ${String(mode)}`);
  if (unknownTypes !== 'reject' && unknownTypes !== 'accept') throw new MessageboxError('invalid_options', `createInbox: unknownTypes must be "reject" or "accept"`);
  const handlers = new Map<string, { handler: InboxHandler<Tx, never>; policy: RetryPolicy }>();
  const events = new Events<InboxEventMap>(() => logger);
  const instrumentation = options.instrumentation ?? {};
  const retention = resolveRetention(options.retention, 'createInbox');
  const senderSpanMs = longestRetrySpanMs(createRetryPolicy(options.senderRetry));
  const groupCommit = resolveGroupCommit(store, options.groupCommit);
  const purger =
    retention &&
    new PeriodicTask(async () => {
      try {
        const deleted = await purgeInBatches((o) => store.purge(o), { olderThanMs: retention.keepMs, batchSize: retention.batchSize });
        if (deleted) logger.info({ deleted }, 'inbox retention: deleted processed messages');
      } catch (error) {
        logger.error({ error: describeError(error) }, 'inbox retention: purge failed; will try again');
      }
    }, retention.intervalMs);

  const runner = new WorkRunner<Job>(
    {
      claim: async (limit) =>
        handlers.size === 0 ? [] : toJobs(await store.claimDue({ limit, leaseMs: config.leaseMs, token: newClaimToken(), types: [...handlers.keys()] })),
      process: (job, signal) => handle(job, signal),
      release: async (jobs) => void (await store.release(jobs.map((j) => j.claim))),
    },
    { name: 'inbox', ...config, concurrency: Math.max(1, Math.min(config.concurrency, store.maxConcurrentTransactions ?? Infinity)) },
  );

  function toJobs(rows: ClaimedInboxMessage[]): Job[] {
    return rows.map((row) => ({
      message: { id: row.id, source: row.source, type: row.type, payload: row.payload, headers: row.headers, createdAt: row.createdAt },
      claim: { source: row.source, id: row.id, token: row.token },
      attempts: row.attempts,
      receivedAt: row.receivedAt,
    }));
  }

  async function runHandler(tx: Tx, job: Job, signal: AbortSignal): Promise<void> {
    const entry = handlers.get(job.message.type);
    if (!entry) throw new MessageboxError('unknown_type', `no handler is registered for message type "${job.message.type}"`);
    await entry.handler(job.message as Message<never>, { tx, attempt: job.attempts, signal });
    if (!(await store.markProcessed(tx, job.claim))) {
      throw new MessageboxError('lease_lost', `inbox message ${job.message.id} from ${job.message.source} was taken over by another worker; rolled back this run`);
    }
  }

  async function handle(job: Job, signal: AbortSignal): Promise<void> {
    const { message, attempts } = job;
    const policy = handlers.get(message.type)?.policy ?? config.retry;
    const started = clock.now();
    let failure: unknown = exhaustedBeforeStart(attempts, policy);
    if (!failure) {
      try {
        const run = () => store.transaction((tx) => runHandler(tx, job, signal));
        await (instrumentation.handle ? instrumentation.handle(message, attempts, run) : run());
        events.emit('handled', { message, attempts, durationMs: clock.now() - started });
        return;
      } catch (error) {
        failure = error ?? new Error('handler rejected without a reason');
      }
    }
    if (failure instanceof MessageboxError && failure.code === 'lease_lost' && !exhaustedBeforeStart(attempts, policy)) {
      logger.warn({ id: message.id, type: message.type }, describeError(failure));
      return;
    }
    const outcome = await settleFailure(store, job.claim, { attempts, since: job.receivedAt, error: failure }, { policy, clock, random: config.random });
    if (outcome.kind === 'retry') {
      logger.info({ id: message.id, type: message.type, attempts, error: outcome.error, delayMs: outcome.delayMs }, 'handler failed; will retry');
      events.emit('handlerFailed', { message, attempts, error: outcome.error, delayMs: outcome.delayMs, retryAt: outcome.retryAt });
    } else if (outcome.kind === 'dead') {
      logger.warn({ id: message.id, type: message.type, attempts, error: outcome.error }, 'inbox message is dead');
      events.emit('dead', { message, attempts, error: outcome.error });
    }
  }

  const inbox: Inbox<Tx> = {
    events,
    store,
    mode,

    on(type, handler, opts = {}) {
      if (typeof type !== 'string' || !type) throw new MessageboxError('invalid_options', 'inbox.on() needs a message type');
      if (typeof handler !== 'function') throw new MessageboxError('invalid_options', `inbox.on("${type}") needs a handler function`);
      if (handlers.has(type)) throw new MessageboxError('invalid_options', `a handler for "${type}" is already registered`);
      handlers.set(type, { handler: handler as InboxHandler<Tx, never>, policy: createRetryPolicy(opts.retry, config.retry) });
      return inbox;
    },

    accepts: (type) => handlers.has(type) || unknownTypes === 'accept',

    async receive(input) {
      const message = createMessage(
        { id: input?.id, source: input?.source, type: input?.type, payload: input?.payload, headers: input?.headers ?? {} },
        { now: input?.createdAt instanceof Date && !Number.isNaN(input.createdAt.getTime()) ? input.createdAt : new Date(clock.now()) },
      );
      if (!inbox.accepts(message.type)) {
        throw new MessageboxError('unknown_type', `no handler is registered for message type "${message.type}"`);
      }
      const job: Job | undefined = handlers.has(message.type) ? { message, claim: { source: message.source, id: message.id, token: newClaimToken() }, attempts: 1, receivedAt: new Date(clock.now()) } : undefined;
      const claim = job ? { token: job.claim.token, leaseMs: config.leaseMs } : undefined;
      let isNew: boolean;
      if (mode === 'inline' && job) {
        const run = () => store.transaction(async (tx) => {
          if (!(await store.receive(tx, message, { claim: claim! }))) return false;
          try {
            await runHandler(tx, job, neverAborted);
          } catch (error) {
            throw new MessageboxError('handler_failed', `handler for "${message.type}" failed; nothing was stored: ${describeError(error)}`, { cause: error });
          }
          return true;
        });
        isNew = await (instrumentation.handle ? instrumentation.handle(message, 1, run) : run());
      } else if (groupCommit) {
        isNew = await groupCommit.receive(claim ? { message, claim } : { message });
      } else {
        isNew = await store.transaction((tx) => store.receive(tx, message, claim ? { claim } : {}));
      }
      events.emit(isNew ? 'received' : 'duplicate', { message });
      if (isNew && job && mode === 'inline') events.emit('handled', { message, attempts: 1, durationMs: 0 });
      if (isNew && job && mode === 'after-commit') runner.submit([job]);
      return { status: isNew ? 'created' : 'duplicate' };
    },

    async processDue(opts = {}) {
      const maxMessages = opts.maxMessages ?? Number.POSITIVE_INFINITY;
      let attempted = 0;
      for (;;) {
        const limit = Math.min(config.batchSize, maxMessages - attempted);
        if (limit <= 0 || handlers.size === 0) break;
        const jobs = toJobs(await store.claimDue({ limit, leaseMs: config.leaseMs, token: newClaimToken(), types: [...handlers.keys()] }));
        attempted += jobs.length;
        await runner.process(jobs);
        if (jobs.length < limit) break;
      }
      return attempted;
    },

    async start() {
      if (retention && retention.keepMs < senderSpanMs) {
        logger.warn(
          { keepMs: retention.keepMs, senderRetrySpanMs: senderSpanMs },
          'inbox retention is shorter than the longest sender retry schedule: a late retry of a purged message would be handled again',
        );
      }
      runner.start();
      purger?.start();
    },
    async stop(opts) {
      const [inTime] = await Promise.all([runner.stop(opts?.timeoutMs ?? config.shutdownTimeoutMs), purger?.stop()]);
      return inTime;
    },
    idle: () => runner.idle(),
  };
  return inbox;
}

function resolveGroupCommit<Tx>(store: InboxStore<Tx>, option: InboxOptions<Tx>['groupCommit']): GroupCommit<Tx> | undefined {
  if (option === false) return undefined;
  const maxMessages = option?.maxMessages ?? DEFAULT_GROUP_COMMIT_MESSAGES;
  if (!Number.isInteger(maxMessages) || maxMessages <= 0) {
    throw new MessageboxError('invalid_options', `createInbox: groupCommit.maxMessages must be a positive integer, got ${String(maxMessages)}`);
  }
  return new GroupCommit(store, maxMessages);
}

const DEFAULT_GROUP_COMMIT_MESSAGES = 100;
