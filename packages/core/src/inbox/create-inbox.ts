import { describeError, isMessageboxError, MessageboxError } from '../errors.js';
import { Events } from '../events.js';
import type { JsonValue } from '../json.js';
import { createMessage, newClaimToken, type Message } from '../message.js';
import { createTurnToken } from '../internal/turn-token.js';
import type { ClaimedInboxMessage, InboxClaim, InboxKey, InboxStore } from '../ports/inbox-store.js';
import { createRetryPolicy, longestRetrySpanMs, type RetryPolicy, type RetryPolicyOptions } from '../retry-policy.js';
import { resolveServiceOptions, type ServiceOptions } from '../service-options.js';
import { exhaustedBeforeStart } from '../internal/settle-failure.js';
import type { Instrumentation } from '../instrumentation.js';
import { resolveRetention, type RetentionOptions } from '../retention.js';
import { settleAndAnnounce, type FailureAnnouncer } from '../service/announce-failure.js';
import { messageOfRow } from '../service/claimed-message.js';
import { retentionPurger } from '../service/retention-purger.js';
import { ServiceSkeleton } from '../service/service-skeleton.js';
import type { WorkBatch } from '../service/work-batch.js';
import type { AnyMessageCatalog, MessageMap, OutputsOf, UntypedMessages } from '../catalog/define-messages.js';
import type { InboxBatchHandlerFor, InboxHandlerFor } from '../catalog/typed-inbox.js';
import type { TypeOf } from '../catalog/typed-api.js';
import { assertDeclared, validatePayload } from '../catalog/validate-payload.js';
import { GroupCommit, type TakePlace } from './group-commit.js';
import { handlerTransaction, type PublishingOutbox } from './handler-publishing.js';
import { decideHandlerFailure, meantByHandler, retriesBatchLater } from './handler-errors.js';
import { resolveOrdering, type OrderingOptions, type ResolvedOrdering } from '../ordering/ordering-options.js';
import { inReceiveOrder } from './ordered-receive.js';
import { coalescedWake } from '../ordering/coalesced-wake.js';
import type { InboxEventMap } from './inbox-events.js';

/** What a handler gets besides the message. */
export interface HandlerContext<Tx> {
  /**
   * The transaction that marks the message processed: write with it so your
   * changes commit together with that mark. With the inbox's `outbox`,
   * `outbox.add(tx, …)` is attempted right after it commits.
   */
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

/**
 * Runs for each newly received message of its type. Throw to have it
 * retried with backoff; throw `DeadLetterError` to make it dead at once (no
 * retry can fix it), `RetryLaterError` to have it run again at a given time.
 */
export type InboxHandler<Tx, P = JsonValue, T extends string = string> = (message: Message<P, T>, context: HandlerContext<Tx>) => Promise<void> | void;

/** What a batch handler gets besides its messages. */
export interface BatchHandlerContext<Tx> {
  /** The one transaction that marks every message of the batch processed: write with it so your changes commit together with those marks. */
  tx: Tx;
  /** `attempts[i]` is the attempt of `messages[i]`: 1 for its first run, 2 for its first retry… */
  attempts: readonly number[];
  /** As {@link HandlerContext.signal}: aborted when `inbox.stop()` runs out of time. */
  signal: AbortSignal;
}

/**
 * Runs once for several due messages of its type (registered with
 * `inbox.onBatch`), in one transaction. Throw to have them retried: they are
 * then run again one by one (`messages` holds one message), each settled on
 * its own, so one bad message cannot hold the others back (a
 * `DeadLetterError` too: the message whose own run throws it is dead). A
 * `RetryLaterError` instead schedules every message of the batch for the
 * time it asks.
 */
export type InboxBatchHandler<Tx, P = JsonValue, T extends string = string> = (messages: readonly Message<P, T>[], context: BatchHandlerContext<Tx>) => Promise<void> | void;

export interface InboxOptions<Tx> extends ServiceOptions {
  store: InboxStore<Tx>;
  /**
   * `after-commit` (default): a message is stored and acknowledged, then its
   * handler runs in its own transaction, retried with backoff on failure.
   * `inline`: the handler runs inside the receiving transaction before the
   * answer; if it throws nothing is stored and the sender is told to retry,
   * unless it threw `DeadLetterError` or `RetryLaterError`: the message is
   * then stored dead, or due at the time asked, and answered `created`.
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
  /**
   * The message types this inbox takes (`defineMessages()`): handlers are
   * then typed from it (`on`, `onBatch`), a type not in it is refused there,
   * and payloads with a schema are validated before anything is stored (an
   * invalid one rejects with `invalid_payload` and its issues; 422 over HTTP).
   */
  catalog?: AnyMessageCatalog;
  /**
   * The outbox handlers publish with (the chain "receive, write, publish"):
   * each handler then runs in `outbox.transaction()`, so `outbox.add(tx, …)`
   * with the handler's `tx` is attempted right after that transaction
   * commits, and never if the handler fails. The outbox's store must be on
   * the inbox store's database (refused with `invalid_options` otherwise).
   * Without it, what a handler adds is left to the outbox's worker. See
   * {@link PublishingOutbox}.
   */
  outbox?: PublishingOutbox<Tx>;
  /**
   * Per-key ordering of messages that carry a `key`: the messages of one
   * `(source, key)` are handled one at a time, in the order received (a
   * messagebox sender sends a key's messages one at a time, in creation
   * order). A message whose key has an earlier one unprocessed is stored and
   * left to the worker (`start()`), in after-commit and inline mode alike.
   * `dead` says what a dead message does to the rest of its key (default
   * `block`). See the README's "Ordering".
   */
  ordering?: OrderingOptions;
}

export interface HandlerOptions {
  /** Overrides fields of the inbox's retry policy for this type. */
  retry?: RetryPolicyOptions;
}

/** Options of `inbox.onBatch`. */
export interface BatchHandlerOptions extends HandlerOptions {
  /**
   * Most messages per handler call (default 100). A batch is made of the
   * messages due together: those one worker claim returned (at most the
   * inbox's `batchSize`), or those received and committed together.
   */
  maxMessages?: number;
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
 *
 * With a catalog (`createInbox({ ..., catalog })`), `M` maps each type to the
 * payload its handler gets (a schema's output).
 */
export interface Inbox<Tx, M extends MessageMap = UntypedMessages> {
  readonly events: Events<InboxEventMap>;
  readonly store: InboxStore<Tx>;
  readonly mode: 'after-commit' | 'inline';

  /** Registers the handler for a type (one per type, per-message or batch). Returns the inbox. */
  on<P = JsonValue, T extends TypeOf<M> = TypeOf<M>>(type: T, handler: InboxHandlerFor<Tx, M, P, T>, options?: HandlerOptions): Inbox<Tx, M>;
  /**
   * Registers a batch handler for a type (one handler per type): the worker
   * runs it once for up to `maxMessages` due messages of that type, in one
   * transaction, and marks them all processed in that transaction with one
   * store call (`store.markProcessedMany`). When it throws, or when a claim of
   * the batch was lost meanwhile, that transaction rolls back and the
   * messages run again one by one (each in its own transaction, the handler
   * given a one-message array), each retried with backoff or dead-lettered on
   * its own; a message whose claim was lost is left to its new owner.
   * Events (`handled`, `handlerFailed`, `dead`) are per message. In inline
   * mode, and for a batch of one, the handler runs per message. Returns the inbox.
   *
   * @example
   * inbox.onBatch<{ amount: number }>('payment.created', async (messages, { tx }) => {
   *   await tx.insertInto('ledger').values(messages.map((m) => ({ id: m.id, amount: m.payload.amount }))).execute();
   * }, { maxMessages: 200 });
   */
  onBatch<P = JsonValue, T extends TypeOf<M> = TypeOf<M>>(type: T, handler: InboxBatchHandlerFor<Tx, M, P, T>, options?: BatchHandlerOptions): Inbox<Tx, M>;
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

type Entry<Tx> =
  | { kind: 'message'; handler: InboxHandler<Tx, never>; policy: RetryPolicy }
  | { kind: 'batch'; handler: InboxBatchHandler<Tx, never>; policy: RetryPolicy; maxMessages: number };

/** What a worker slot runs: one job, or several of one batch type. */
type Work = WorkBatch<Job>;

export function createInbox<Tx, Catalog extends AnyMessageCatalog>(options: InboxOptions<Tx> & { catalog: Catalog }): Inbox<Tx, OutputsOf<Catalog>>;
export function createInbox<Tx>(options: InboxOptions<Tx>): Inbox<Tx>;
export function createInbox<Tx>(options: InboxOptions<Tx>): Inbox<Tx> | Inbox<Tx, MessageMap> {
  if (!options?.store) throw new MessageboxError('invalid_options', 'createInbox needs a `store`');
  const store = options.store;
  const config = resolveServiceOptions(options, 'createInbox');
  const { clock, logger } = config;
  const mode = options.mode ?? 'after-commit';
  const unknownTypes = options.unknownTypes ?? 'reject';
  if (mode !== 'after-commit' && mode !== 'inline') throw new MessageboxError('invalid_options', `createInbox: mode must be "after-commit" or "inline", got ${String(mode)}`);
  if (unknownTypes !== 'reject' && unknownTypes !== 'accept') throw new MessageboxError('invalid_options', `createInbox: unknownTypes must be "reject" or "accept"`);
  const handlers = new Map<string, Entry<Tx>>();
  const events = new Events<InboxEventMap>(() => logger);
  const instrumentation = options.instrumentation ?? {};
  const retention = resolveRetention(options.retention, 'createInbox');
  const senderSpanMs = longestRetrySpanMs(createRetryPolicy(options.senderRetry));
  const ordering = resolveOrdering(options.ordering, 'createInbox');
  // Its places in the after-commit queue are the runner's, created below; taken only once receives arrive.
  const groupCommit = resolveGroupCommit(store, options.groupCommit, ordering, () => runner.reserve(1));
  const transaction = handlerTransaction(store, options.outbox);
  const failures: FailureAnnouncer = {
    store,
    clock,
    random: config.random,
    logger,
    retryText: 'handler failed; will retry',
    deadText: 'inbox message is dead',
    decide: decideHandlerFailure,
    emit: (failure) => (failure.kind === 'retry' ? events.emit('handlerFailed', failure.event) : events.emit('dead', failure.event)),
  };

  /** Handlers run at once: `concurrency`, but no more than the store runs transactions without waiting for a connection. */
  const handlerSlots = Math.max(1, Math.min(config.concurrency, store.maxConcurrentTransactions ?? Infinity));
  /** Jobs of a batch type are grouped per type, up to its `maxMessages`, in their order; every other job runs on its own. */
  const service = new ServiceSkeleton<Job>(
    {
      claim: claimJobs,
      batchRule: (job) => {
        const entry = handlers.get(job.message.type);
        return entry?.kind === 'batch' ? { key: job.message.type, maxRows: entry.maxMessages } : undefined;
      },
      process: (work, signal) => processWork(work, signal),
      release: async (jobs) => void (await store.release(jobs.map((j) => j.claim))),
    },
    {
      name: 'inbox',
      ...config,
      concurrency: handlerSlots,
      purger: retentionPurger({ name: 'inbox', finished: 'processed', logger }, (o) => store.purge(o), retention),
    },
  );
  const runner = service.runner;
  /**
   * A wake-up shared by whatever happens within a few ms: keyed completions
   * (the next message of a key may be claimable) and rows stored for the
   * worker (after-commit queue full, or set aside behind their key), so a
   * burst of those costs one claim per window, not one per message.
   */
  const wakeSoon = coalescedWake(() => runner.wake());
  /** Messages received together (one batch request) are written claimed with one token: one group in their processed mark. */
  const receiveToken = createTurnToken();

  async function claimJobs(limit: number): Promise<Job[]> {
    if (handlers.size === 0) return [];
    const rows = await store.claimDue({ limit, leaseMs: config.leaseMs, token: newClaimToken(), types: [...handlers.keys()], deadKey: ordering.deadKey });
    return rows.map((row: ClaimedInboxMessage) => ({
      message: messageOfRow(row),
      claim: { source: row.source, id: row.id, token: row.token },
      attempts: row.attempts,
      receivedAt: row.receivedAt,
    }));
  }

  async function runHandler(tx: Tx, job: Job, signal: AbortSignal): Promise<void> {
    const entry = handlers.get(job.message.type);
    if (!entry) throw new MessageboxError('unknown_type', `no handler is registered for message type "${job.message.type}"`);
    if (entry.kind === 'batch') await entry.handler([job.message as Message<never>], { tx, attempts: [job.attempts], signal });
    else await entry.handler(job.message as Message<never>, { tx, attempt: job.attempts, signal });
    if (!(await store.markProcessed(tx, job.claim))) {
      throw new MessageboxError('lease_lost', `inbox message ${job.message.id} from ${job.message.source} was taken over by another worker; rolled back this run`);
    }
  }

  /** Runs a batch handler and marks every job processed, in `tx`; adds the keys whose claim was lost to `lost` (and throws) when not all could be marked. */
  async function runBatchHandler(tx: Tx, entry: Extract<Entry<Tx>, { kind: 'batch' }>, jobs: readonly Job[], signal: AbortSignal, lost: Set<string>): Promise<void> {
    await entry.handler(
      jobs.map((j) => j.message as Message<never>),
      { tx, attempts: jobs.map((j) => j.attempts), signal },
    );
    const claims = jobs.map((j) => j.claim);
    const marked = store.markProcessedMany ? await store.markProcessedMany(tx, claims) : await markOneByOne(tx, claims);
    if (marked.length >= claims.length) return;
    const done = new Set(marked.map(keyOf));
    for (const claim of claims) if (!done.has(keyOf(claim))) lost.add(keyOf(claim));
    throw new MessageboxError('lease_lost', `${claims.length - marked.length} of ${claims.length} inbox messages of this batch were taken over by other workers; rolled back this run`);
  }

  async function markOneByOne(tx: Tx, claims: readonly InboxClaim[]): Promise<InboxKey[]> {
    const marked: InboxKey[] = [];
    for (const claim of claims) if (await store.markProcessed(tx, claim)) marked.push(claim);
    return marked;
  }

  async function processWork({ rows: jobs }: Work, signal: AbortSignal): Promise<void> {
    const entry = handlers.get(jobs[0]!.message.type);
    await (jobs.length > 1 && entry?.kind === 'batch' ? handleBatch(entry, jobs, signal) : handleEach(jobs, signal));
    // The next message of a key may be claimable now: claim it without waiting for the poll.
    if (jobs.some((job) => job.message.key !== undefined)) wakeSoon();
  }

  async function handleEach(jobs: readonly Job[], signal: AbortSignal): Promise<void> {
    for (const job of jobs) await handle(job, signal);
  }

  async function handle(job: Job, signal: AbortSignal): Promise<void> {
    const { message, attempts } = job;
    const policy = handlers.get(message.type)?.policy ?? config.retry;
    const started = clock.now();
    let failure: unknown = exhaustedBeforeStart(attempts, policy);
    if (!failure) {
      try {
        const run = () => transaction((tx) => runHandler(tx, job, signal));
        await (instrumentation.handle ? instrumentation.handle(message, attempts, run) : run());
        events.emit('handled', { message, attempts, durationMs: clock.now() - started });
        return;
      } catch (error) {
        failure = error ?? new Error('handler rejected without a reason');
      }
    }
    await settle(job, failure, policy);
  }

  /**
   * One transaction for the batch. When it fails, each message runs again on
   * its own (or, once `stop()` aborted the run, is settled with the failure),
   * except those whose claim the batch found lost.
   */
  async function handleBatch(entry: Extract<Entry<Tx>, { kind: 'batch' }>, work: readonly Job[], signal: AbortSignal): Promise<void> {
    const jobs: Job[] = [];
    for (const job of work) {
      const exhausted = exhaustedBeforeStart(job.attempts, entry.policy);
      if (exhausted) await settle(job, exhausted, entry.policy);
      else jobs.push(job);
    }
    if (jobs.length <= 1) return handleEach(jobs, signal);
    const started = clock.now();
    const lost = new Set<string>();
    let failure: unknown;
    try {
      const run = () => transaction((tx) => runBatchHandler(tx, entry, jobs, signal, lost));
      const messages = jobs.map((j) => j.message);
      await (instrumentation.handleBatch ? instrumentation.handleBatch(messages, jobs.map((j) => j.attempts), run) : run());
      const durationMs = clock.now() - started;
      for (const { message, attempts } of jobs) events.emit('handled', { message, attempts, durationMs });
      return;
    } catch (error) {
      failure = error ?? new Error('batch handler rejected without a reason');
    }
    const later = retriesBatchLater(failure);
    logger.info({ type: jobs[0]!.message.type, messages: jobs.length, lost: lost.size, error: describeError(failure) }, later ? 'batch handler asked to retry later; scheduling each message' : 'batch handler failed; running its messages one by one');
    for (const job of jobs) {
      if (lost.has(keyOf(job.claim))) logger.warn({ id: job.message.id, type: job.message.type }, `inbox message ${job.message.id} from ${job.message.source} was taken over by another worker; left to it`);
      else if (signal.aborted || later) await settle(job, failure, entry.policy);
      else await handle(job, signal);
    }
  }

  /** Records a failed run of one message: retry with backoff or dead, logged and emitted; a lost lease is only logged. */
  let warnedKeptWithoutWorker = false;
  function warnKeptWithoutWorker(message: Message): void {
    if (warnedKeptWithoutWorker) return;
    warnedKeptWithoutWorker = true;
    logger.warn(
      { id: message.id, type: message.type },
      'an inline handler threw RetryLaterError: the message is stored to run later, which needs inbox.start() or inbox.processDue() in some process (no worker runs in this one)',
    );
  }

  async function settle(job: Job, failure: unknown, policy: RetryPolicy): Promise<void> {
    const { message, attempts } = job;
    if (isMessageboxError(failure, 'lease_lost') && !exhaustedBeforeStart(attempts, policy)) {
      logger.warn({ id: message.id, type: message.type }, describeError(failure));
      return;
    }
    await settleAndAnnounce(failures, job, { error: failure, since: job.receivedAt, policy });
  }

  function register(type: string, handler: unknown, what: string, entry: () => Entry<Tx>): Inbox<Tx> {
    if (typeof type !== 'string' || !type) throw new MessageboxError('invalid_options', `inbox.${what}() needs a message type`);
    if (typeof handler !== 'function') throw new MessageboxError('invalid_options', `inbox.${what}("${type}") needs a handler function`);
    if (handlers.has(type)) throw new MessageboxError('invalid_options', `a handler for "${type}" is already registered`);
    assertDeclared(options.catalog, type, `inbox.${what}()`);
    handlers.set(type, entry());
    return inbox;
  }

  const inbox: Inbox<Tx> = {
    events,
    store,
    mode,

    on(type, handler, opts = {}) {
      return register(type, handler, 'on', () => ({ kind: 'message', handler: handler as never, policy: createRetryPolicy(opts.retry, config.retry) }));
    },

    onBatch(type, handler, opts = {}) {
      const maxMessages = opts.maxMessages ?? DEFAULT_BATCH_MESSAGES;
      if (!Number.isInteger(maxMessages) || maxMessages <= 0) {
        throw new MessageboxError('invalid_options', `inbox.onBatch("${String(type)}"): maxMessages must be a positive integer, got ${String(maxMessages)}`);
      }
      return register(type, handler, 'onBatch', () => ({ kind: 'batch', handler: handler as never, policy: createRetryPolicy(opts.retry, config.retry), maxMessages }));
    },

    accepts: (type) => handlers.has(type) || unknownTypes === 'accept',

    async receive(input) {
      const created = createMessage(
        { id: input?.id, source: input?.source, type: input?.type, payload: input?.payload, headers: input?.headers ?? {}, ...(input?.key !== undefined ? { key: input.key } : {}) },
        { now: input?.createdAt instanceof Date && !Number.isNaN(input.createdAt.getTime()) ? input.createdAt : new Date(clock.now()) },
      );
      const message = options.catalog?.schemaOf(created.type) ? Object.freeze({ ...created, payload: (await validatePayload(options.catalog, created.type, created.payload)) as JsonValue }) : created;
      if (!inbox.accepts(message.type)) {
        throw new MessageboxError('unknown_type', `no handler is registered for message type "${message.type}"`);
      }
      const job: Job | undefined = handlers.has(message.type) ? { message, claim: { source: message.source, id: message.id, token: receiveToken(`${message.source}\u0000${message.id}`) }, attempts: 1, receivedAt: new Date(clock.now()) } : undefined;
      // After commit: a place in the queue is held while the row is committed, so concurrent receives cannot all find room and overflow it together;
      // group commit takes it when the row's batch is written (receives waiting for their batch hold none). No place: the row is written unclaimed for the worker (woken below), no release later.
      let place = job !== undefined && mode === 'after-commit' && !groupCommit ? runner.reserve(1) : undefined;
      let preClaimed = job !== undefined && (mode === 'inline' || place !== undefined || groupCommit !== undefined);
      try {
        const claim = job && preClaimed ? { token: job.claim.token, leaseMs: config.leaseMs } : undefined;
        let isNew: boolean;
        let settleKept: (() => Promise<void>) | undefined;
        if (mode === 'inline' && job) {
          const run = () => transaction(async (tx) => {
            // A message whose key has an earlier one unprocessed is stored for the worker instead of handled here.
            const { aside } = await inReceiveOrder(store, tx, [{ message, claim: claim! }], ordering);
            if (aside[0]) {
              preClaimed = false;
              return store.receive(tx, message);
            }
            if (!(await store.receive(tx, message, { claim: claim! }))) return false;
            try {
              await runHandler(tx, job, neverAborted);
            } catch (error) {
              throw new MessageboxError('handler_failed', `handler for "${message.type}" failed; nothing was stored: ${describeError(error)}`, { cause: error });
            }
            return true;
          });
          try {
            isNew = await (instrumentation.handle ? instrumentation.handle(message, 1, run) : run());
          } catch (error) {
            const meant = meantByHandler(error);
            if (meant === undefined) throw error;
            // The handler said what it means (dead now, or run again later): the message is kept and settled as in after-commit mode.
            isNew = await store.transaction((tx) => store.receive(tx, message, { claim: claim! }));
            if (isNew) settleKept = () => settle(job, meant, handlers.get(message.type)?.policy ?? config.retry);
          }
        } else if (groupCommit) {
          const receipt = await groupCommit.receive(claim ? { message, claim } : { message });
          place = receipt.place;
          isNew = receipt.outcome !== 'duplicate';
          if (receipt.outcome === 'created-unclaimed') preClaimed = false; // no place, or its claim was given back: left to the worker, woken below
        } else {
          isNew = await store.transaction(async (tx) => {
            const { entries, aside } = await inReceiveOrder(store, tx, [claim ? { message, claim } : { message }], ordering);
            if (aside[0]) preClaimed = false;
            return store.receive(tx, message, entries[0]!.claim ? { claim: entries[0]!.claim } : {});
          });
        }
        events.emit(isNew ? 'received' : 'duplicate', { message });
        if (settleKept) {
          await settleKept();
          // A message kept to run later is the workers' to handle: woken for a short delay, and a warning when none runs here.
          runner.wake();
          if (!runner.running) warnKeptWithoutWorker(message);
        } else if (isNew && job && mode === 'inline') {
          if (preClaimed) events.emit('handled', { message, attempts: 1, durationMs: 0 });
          else runner.wake(); // set aside behind an earlier message of its key: the worker's
        }
        if (isNew && job && mode === 'after-commit') {
          if (preClaimed) service.submitFresh([job]);
          else wakeSoon(); // stored for the worker: claimed with the others of the next few ms
        }
        return { status: isNew ? 'created' : 'duplicate' };
      } finally {
        place?.(); // submitted by now, or nothing to submit
      }
    },

    processDue: (opts = {}) => service.pass({ ...(opts.maxMessages === undefined ? {} : { maxMessages: opts.maxMessages }), proceed: () => handlers.size > 0 }),

    async start() {
      if (retention && retention.keepMs < senderSpanMs) {
        logger.warn(
          { keepMs: retention.keepMs, senderRetrySpanMs: senderSpanMs },
          'inbox retention is shorter than the longest sender retry schedule: a late retry of a purged message would be handled again',
        );
      }
      if (options.concurrency !== undefined && handlerSlots < options.concurrency) {
        logger.info(
          { concurrency: options.concurrency, handlers: handlerSlots },
          `inbox runs at most ${handlerSlots} handlers at once, not its concurrency ${options.concurrency}: the store runs no more transactions at once without one waiting for a connection (maxConcurrentTransactions; for a Postgres pool, its size less 2 kept for receiving)`,
        );
      }
      service.start();
    },
    stop: (opts) => service.stop(opts?.timeoutMs ?? config.shutdownTimeoutMs),
    idle: () => service.idle(),
  };
  return inbox;
}

function resolveGroupCommit<Tx>(store: InboxStore<Tx>, option: InboxOptions<Tx>['groupCommit'], ordering: ResolvedOrdering, takePlace: TakePlace): GroupCommit<Tx> | undefined {
  if (option === false) return undefined;
  const maxMessages = option?.maxMessages ?? DEFAULT_GROUP_COMMIT_MESSAGES;
  if (!Number.isInteger(maxMessages) || maxMessages <= 0) {
    throw new MessageboxError('invalid_options', `createInbox: groupCommit.maxMessages must be a positive integer, got ${String(maxMessages)}`);
  }
  return new GroupCommit(store, maxMessages, { order: (tx, entries) => inReceiveOrder(store, tx, entries, ordering), takePlace });
}

const DEFAULT_GROUP_COMMIT_MESSAGES = 100;
const DEFAULT_BATCH_MESSAGES = 100;

const keyOf = (key: InboxKey) => JSON.stringify([key.source, key.id]);
