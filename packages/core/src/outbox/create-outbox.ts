import { describeError, isTransportError, MessageboxError, type TransportError } from '../errors.js';
import { Events } from '../events.js';
import type { JsonValue } from '../json.js';
import { createMessage, newClaimToken, type Message, type MessageInput } from '../message.js';
import type { Claim } from '../ports/claim.js';
import type { ClaimedOutboxMessage, OutboxStore } from '../ports/outbox-store.js';
import type { Transport } from '../ports/transport.js';
import { createRetryPolicy, type RetryPolicy, type RetryPolicyOptions } from '../retry-policy.js';
import { resolveServiceOptions, type ServiceOptions } from '../service-options.js';
import { CoalescingBatcher } from '../internal/coalescing-batcher.js';
import { DestinationLimiters } from '../internal/destination-limiter.js';
import { exhaustedBeforeStart } from '../internal/settle-failure.js';
import { settlesWithin } from '../internal/settles-within.js';
import type { FollowUp } from '../internal/work-runner.js';
import type { Instrumentation } from '../instrumentation.js';
import { resolveRetention, type RetentionOptions } from '../retention.js';
import { settleAndAnnounce, type FailureAnnouncer } from '../service/announce-failure.js';
import { messageOfRow } from '../service/claimed-message.js';
import { retentionPurger } from '../service/retention-purger.js';
import { ServiceSkeleton } from '../service/service-skeleton.js';
import type { WorkBatch } from '../service/work-batch.js';
import type { OutboxEventMap } from './outbox-events.js';
import { emptyReport, type DeliveryReport } from './outbox-report.js';
import type { AnyMessageCatalog, InputsOf, MessageMap, UntypedMessages } from '../catalog/define-messages.js';
import type { OutboxAddInput, OutboxAddManyInputs, OutboxAddManyResult, OutboxAddResult, TypeOf } from '../catalog/typed-api.js';
import { assertDeclared, validatePayload } from '../catalog/validate-payload.js';
import { messageSize, resolveRouteBatch, sendDispatch, type ResolvedBatch, type RouteBatchOptions } from './batch-dispatch.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import { FlowControl, type Admission, type DestinationState, type FlowControlOptions } from './flow-control.js';
import { DestinationStateWriter } from './destination-state-writer.js';
import { resolveOrdering, type OrderingOptions } from '../ordering/ordering-options.js';
import { unclaimedForOrder } from './ordered-claims.js';
import { retryCompletion } from './retry-completion.js';
import { coalescedWake } from '../ordering/coalesced-wake.js';

export interface OutboxOptions<Tx> extends ServiceOptions {
  store: OutboxStore<Tx>;
  /** Default `source` of messages created here, e.g. the service name. */
  source?: string;
  /**
   * Attempt delivery right after commit of `outbox.transaction()`. Default
   * true. While the after-commit queue is full (`maxQueued`), messages are
   * left to the worker instead (written unclaimed, the worker woken at commit).
   */
  sendAfterCommit?: boolean;
  /** Tracing and metrics hooks (see `@messagebox/opentelemetry`). */
  instrumentation?: Instrumentation;
  /** How long sent rows are kept before the worker deletes them; `false` keeps them forever. Default 7 days. */
  retention?: RetentionOptions | false;
  /**
   * An attempt starts only while at least this much of its lease is left.
   * A message whose lease ran low before its attempt (a business transaction
   * that went on long after `add`, a queue of after-commit sends waiting for
   * a free slot) is claimed again first (its claim given back and taken anew:
   * a new token, a fresh lease, two statements for all such messages at
   * once), and skipped when another worker has taken it over. Keep it above
   * the transport's timeout. Default: half of `leaseMs`.
   *
   * Leases are measured from the `add` (after-commit rows) or from the claim,
   * on a monotonic clock (`performance.now()`), or on `clock` when one is given.
   */
  minLeaseLeftMs?: number;
  /**
   * The message types this outbox sends (`defineMessages()`): types are then
   * checked by the compiler (`configure`, `add`), `configure` refuses a type
   * not in it, and `add` validates payloads that have a schema (nothing is
   * written when one fails).
   */
  catalog?: AnyMessageCatalog;
  /**
   * Busy destinations and circuit breakers (a destination is a transport):
   * a busy answer (`TransportError.busy`, HTTP 503/429 with `Retry-After`)
   * pauses every message to that transport for the time asked (at most
   * `maxPauseMs`) without counting the attempt; consecutive failures open
   * the transport's breaker. See the README's "Flow control".
   */
  flowControl?: FlowControlOptions;
  /**
   * Per-key ordering of messages added with a `key`: one message of a key
   * is sent at a time, in creation order; `dead` says what a dead message
   * does to the rest of its key (default `block`). See the README's "Ordering".
   */
  ordering?: OrderingOptions;
}

/** How messages of one type are delivered. */
export interface OutboxRoute {
  transport: Transport;
  /** Overrides fields of the outbox's retry policy for this type. */
  retry?: RetryPolicyOptions;
  /**
   * Opt-in batched delivery (needs a transport with `sendBatch`): the worker
   * hands claimed messages of batched routes that share this transport to
   * `sendBatch` together, at most `maxMessages` / `maxBytes` per call (one
   * transport slot per call). Every message keeps its own lease check right
   * before the send and is settled on its own (sent, retried, dead, given
   * back). Without it, one `send` per message. Right after commit, the
   * messages of transactions that commit in the same turn of the event loop
   * are batched together.
   */
  batch?: RouteBatchOptions | false;
  /**
   * The circuit breaker of this route's transport (shared by every route of
   * that transport: give it on one route, or the same on all); overrides
   * `flowControl.breaker`. `false`: none for this transport.
   */
  breaker?: CircuitBreakerOptions | false;
}

/**
 * The sending side. Write messages inside your business transaction; they
 * are attempted right after commit, and retried with backoff by
 * `resendUnsentMessages()` (cron, scheduler) or the worker (`start()`).
 *
 * @example
 * const outbox = createOutbox({ store: storage.outbox, source: 'vault' })
 *   .configure('payment.created', { transport: createHttpTransport({ url }) });
 * await outbox.transaction(async (tx) => {
 *   await tx.insertInto('payment').values(payment).execute();
 *   await outbox.add(tx, { type: 'payment.created', payload: payment });
 * });
 *
 * With a catalog (`createOutbox({ ..., catalog })`), `M` maps each type to
 * its payload and `C` is the union of the types configured so far in the
 * chain: `add` of any other type does not compile.
 */
export interface Outbox<Tx, M extends MessageMap = UntypedMessages, C extends TypeOf<M> = any> {
  readonly events: Events<OutboxEventMap>;
  readonly store: OutboxStore<Tx>;

  /** Sets the transport (and optional retry policy) for a message type. Returns the outbox. */
  configure<T extends TypeOf<M>>(type: T, route: OutboxRoute): Outbox<Tx, M, C | T>;
  /** The configured message types. */
  types(): string[];
  /** Each destination (transport) with its circuit breaker state and busy pause, in this process. */
  destinations(): DestinationState[];

  /**
   * Runs `fn` in a store transaction; messages added to it are attempted right
   * after it commits, in the background (the returned promise does not wait
   * for delivery, and a failing receiver cannot fail it). Nothing is sent if
   * `fn` rejects.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;

  /**
   * Writes a message with `tx`. Throws `MessageboxError` before writing
   * anything when the type has no transport (`no_transport`) or the message
   * is invalid (`invalid_message`, `invalid_payload`). Inside
   * `outbox.transaction()` it is attempted right after commit; in a
   * transaction you run yourself, call {@link Outbox.deliver} after commit or
   * let the worker pick it up.
   *
   * A store may write the row with the COMMIT of `outbox.transaction()`
   * instead of at once (Postgres does, one round trip fewer: see
   * `writeAtCommit`): the input is still checked here, but a SELECT of the
   * outbox inside that transaction does not see the row, and a failure to
   * write it (a duplicate `id`) rejects `outbox.transaction()` instead
   * (`store_failed`), with nothing committed.
   */
  add<P = never, T extends C = C>(tx: Tx, input: OutboxAddInput<M, C, P, T>): Promise<OutboxAddResult<M, P, T>>;
  /** Like {@link Outbox.add} for several messages, in one insert. */
  addMany<P = JsonValue>(tx: Tx, inputs: OutboxAddManyInputs<M, C, P>): Promise<OutboxAddManyResult<M, C, P>>;

  /** Attempts committed messages now (those still pending and not claimed elsewhere). */
  deliver(messages: readonly (Message | string)[]): Promise<DeliveryReport>;

  /** One pass for cron or a scheduler: attempts every due message, batch after batch, then resolves. */
  resendUnsentMessages(options?: { maxMessages?: number }): Promise<DeliveryReport>;

  /** Starts the long-running worker (polls, and wakes on the store's signal where it has one). */
  start(): Promise<void>;
  /**
   * Stops gracefully: no new claims, waits for attempts in flight up to the
   * shutdown timeout (`timeoutMs` overrides `shutdownTimeoutMs` for this call).
   * When time is up, messages not yet attempted are released, and attempts
   * still running are aborted through `SendContext.signal` (each gets up to
   * one more second to record its outcome). True when all finished in time.
   */
  stop(options?: { timeoutMs?: number }): Promise<boolean>;
  /** Resolves when every attempt started so far (after-commit ones included) has finished. */
  idle(): Promise<void>;
  /** `stop()`, then closes the transports. */
  close(): Promise<void>;
}

interface Delivery {
  message: Message;
  claim: Claim;
  attempts: number;
  /** When the lease of `claim` started, on the lease clock (see `minLeaseLeftMs`). */
  leasedAt: number;
  report?: DeliveryReport;
}

/** A message written in `outbox.transaction()`, and whether it was written already claimed for the after-commit attempt. */
interface Added {
  message: Message;
  leasedAt: number;
  claimed: boolean;
}

/** Most claims one markSent statement completes. */
const COMPLETION_BATCH = 500;
/**
 * How long a successful attempt may wait for others to share its markSent,
 * while other attempts are in flight (a lone one is marked at once). The
 * slot is already free for the next send, so this costs no throughput, only
 * up to 100 ms before the row reads `sent` (and a crash in between means a
 * resend the inbox answers as a duplicate). 20 ms merged ~10 completions per
 * UPDATE at 200 msg/s per sender process (0.12 statements per message with 4
 * senders on Postgres); 100 ms keeps a drain under 0.1 down to ~100 msg/s.
 */
const COMPLETION_WINDOW_MS = 100;
/** Longest `stop()` waits for this worker's destination states to be deleted. */
const STATE_CLEAR_MS = 1_000;
/** Most rows one re-claim statement asks for. */
const RECLAIM_BATCH = 500;

export function createOutbox<Tx, Catalog extends AnyMessageCatalog>(options: OutboxOptions<Tx> & { catalog: Catalog }): Outbox<Tx, InputsOf<Catalog>, never>;
export function createOutbox<Tx>(options: OutboxOptions<Tx>): Outbox<Tx>;
export function createOutbox<Tx>(options: OutboxOptions<Tx>): Outbox<Tx> | Outbox<Tx, MessageMap, never> {
  if (!options?.store) throw new MessageboxError('invalid_options', 'createOutbox needs a `store`');
  const store = options.store;
  const config = resolveServiceOptions(options, 'createOutbox');
  const { clock, logger } = config;
  const sendAfterCommit = options.sendAfterCommit ?? true;
  const ordering = resolveOrdering(options.ordering, 'createOutbox');
  const routes = new Map<string, { transport: Transport; policy: RetryPolicy; batch: ResolvedBatch | undefined }>();
  const events = new Events<OutboxEventMap>(() => logger);
  /** Each open `outbox.transaction()`: its claim token, what it added, and the places it holds in the after-commit queue (see `WorkRunner.reserve`). */
  const openTransactions = new WeakMap<object, { token: string; added: Added[]; places: (() => void)[] }>();
  /** markSent for every attempt that succeeded while the previous markSent was in flight, in one statement. */
  const completions = new CoalescingBatcher<Claim, boolean>(
    async (claims) => {
      const marked = new Set(await retryCompletion(() => store.markSent(claims)));
      return claims.map((claim) => marked.has(claim.id));
    },
    // `service` is created below; the window is only used once attempts run.
    { maxBatch: COMPLETION_BATCH, windowMs: COMPLETION_WINDOW_MS, moreExpected: () => service.runner.busy > 0 },
  );
  const leaseClock: () => number = options.clock ? () => clock.now() : () => performance.now();
  const minLeaseLeftMs = resolveMinLeaseLeft(options.minLeaseLeftMs, config.leaseMs);
  /** Gives back claims whose lease ran low and claims the rows again with a fresh lease (attempts unchanged); absent when another worker has them. */
  const reclaims = new CoalescingBatcher<Claim, ClaimedOutboxMessage | undefined>(
    async (claims) => {
      await store.release(claims);
      const ids = claims.map((c) => c.id);
      const rows = await store.claimDue({ ids, limit: ids.length, leaseMs: config.leaseMs, token: newClaimToken(), deadKey: ordering.deadKey });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id));
    },
    { maxBatch: RECLAIM_BATCH },
  );
  /** Passes in which a message was given back unsent: the transport is saturated, so the pass claims no more. */
  const givenBack = new WeakSet<DeliveryReport>();
  const destinations = new DestinationLimiters({ fallback: config.concurrency, maxWaitMs: config.leaseMs / 2 });
  const instrumentation = options.instrumentation ?? {};
  const failures: FailureAnnouncer = {
    store,
    clock,
    random: config.random,
    logger,
    retryText: 'delivery failed; will retry',
    deadText: 'message is dead',
    emit: (failure) => (failure.kind === 'retry' ? events.emit('failed', failure.event) : events.emit('dead', failure.event)),
  };
  let unwatch: (() => Promise<void>) | undefined;
  let starting: Promise<void> | undefined;
  /** Bumped by start() and stop(), so a start() that was overtaken by stop() while subscribing starts nothing. */
  let lifecycle = 0;

  /**
   * Units of work: one delivery per `send`, or those of batched routes
   * grouped per transport, in claim order, within the smallest
   * `maxMessages`/`maxBytes` of the routes in the batch (a message larger
   * than its route's `maxBytes` goes alone, by `send`).
   */
  const service = new ServiceSkeleton<Delivery>(
    {
      claim: (limit) => claimDeliveries(claimOptions(limit)),
      batchRule: (delivery) => {
        const route = routes.get(delivery.message.type);
        return route?.batch ? { key: route.transport, maxRows: route.batch.maxMessages, maxBytes: route.batch.maxBytes } : undefined;
      },
      bytesOf: (delivery) => messageSize(delivery.message),
      process: (dispatch, signal) => attempt(dispatch, signal),
      release: async (deliveries) => void (await store.release(deliveries.map((delivery) => delivery.claim))),
    },
    { name: 'outbox', ...config, purger: retentionPurger({ name: 'outbox', finished: 'sent', logger }, (o) => store.purge(o), resolveRetention(options.retention, 'createOutbox')) },
  );
  const runner = service.runner;
  const stateWriter = new DestinationStateWriter(store as OutboxStore<unknown>, options.flowControl?.worker ?? defaultWorkerName(options.source), logger, () => clock.now());
  const flow = new FlowControl({
    flowControl: options.flowControl,
    onChange: (state) => stateWriter.write(state),
    clock,
    logger,
    onBreaker: (event) => events.emit('breaker', event),
    onPause: (event) => events.emit('paused', event),
    wake: () => runner.wake(),
  });
  /** Claims given back untouched (their destination is paused or its breaker open, or stop() dropped them before the send), a statement for all that come together. */
  const deferrals = new CoalescingBatcher<Claim, undefined>(
    async (claims) => {
      await store.release(claims);
      return claims.map(() => undefined);
    },
    { maxBatch: RECLAIM_BATCH },
  );

  const wakeForKeys = coalescedWake(() => runner.wake());

  /** Claims only configured types: a process never takes messages it cannot send (rolling deploys). */
  function claimOptions(limit: number) {
    return { limit, leaseMs: config.leaseMs, token: newClaimToken(), types: flow.claimable([...routes.keys()]), deadKey: ordering.deadKey };
  }

  /** Claims with `claimWith`; without `ids`, first one message for each destination whose breaker waits for a probe. */
  async function claimDeliveries(claimWith: ReturnType<typeof claimOptions> & { ids?: string[] }, report?: DeliveryReport): Promise<Delivery[]> {
    if (routes.size === 0) return [];
    const leasedAt = leaseClock();
    const rows: ClaimedOutboxMessage[] = [];
    if (!claimWith.ids) {
      for (const probe of flow.probeClaims()) {
        try {
          rows.push(...(await store.claimDue({ limit: 1, leaseMs: config.leaseMs, token: newClaimToken(), types: probe.types })));
        } finally {
          probe.done();
        }
      }
    }
    if (claimWith.types.length) rows.push(...(await store.claimDue(claimWith)));
    return rows.map((row) => ({
      message: messageOfRow(row),
      claim: { id: row.id, token: row.token },
      attempts: row.attempts,
      leasedAt,
      ...(report ? { report } : {}),
    }));
  }

  /**
   * True when `delivery` may be attempted now: enough of its lease is left,
   * or it was claimed again with a fresh lease. False when another worker owns it.
   */
  async function holdLease(delivery: Delivery): Promise<boolean> {
    if (leaseClock() - delivery.leasedAt <= config.leaseMs - minLeaseLeftMs) return true;
    const leasedAt = leaseClock();
    const row = await reclaims.run(delivery.claim);
    if (!row) {
      logger.debug({ id: delivery.message.id, type: delivery.message.type }, 'lease ran low before the attempt and another worker has the message; skipped it');
      return false;
    }
    delivery.claim = { id: row.id, token: row.token };
    delivery.attempts = row.attempts;
    delivery.leasedAt = leasedAt;
    return true;
  }

  /**
   * Sends a dispatch (one delivery by `send`, or a batch by `sendBatch`) in
   * one slot of its transport, each delivery's lease checked right before
   * the send; resolves with the recording of every outcome, which the runner
   * runs outside the concurrency slot.
   */
  async function attempt(dispatch: WorkBatch<Delivery>, signal: AbortSignal): Promise<FollowUp | undefined> {
    const { rows: deliveries } = dispatch;
    const policyOf = (d: Delivery) => routes.get(d.message.type)?.policy ?? config.retry;
    const transport = routes.get(deliveries[0]!.message.type)?.transport;
    let started = clock.now();
    const failures = new Map<Delivery, unknown>();
    const skipped = new Set<Delivery>();
    const stopped = new Set<Delivery>();
    const deferred = new Set<Delivery>();
    const ready: Delivery[] = [];
    for (const delivery of deliveries) {
      const exhausted = exhaustedBeforeStart(delivery.attempts, policyOf(delivery));
      if (exhausted) failures.set(delivery, exhausted);
      else ready.push(delivery);
    }
    if (ready.length) {
      try {
        if (!transport) throw new MessageboxError('no_transport', `no transport is configured for message type "${deliveries[0]!.message.type}"`);
        await destinations.run(transport, signal, async () => {
          // A paused destination, or one whose breaker is open, gets nothing: those messages go back uncounted.
          const admission: Admission = flow.admit(transport, ready.length);
          for (const delivery of ready.slice(admission.admitted)) deferred.add(delivery);
          if (admission.admitted < ready.length) logger.debug({ transport: transport.name, deferred: ready.length - admission.admitted, reason: admission.reason }, 'destination not sent to now; messages given back uncounted');
          const admitted = ready.slice(0, admission.admitted);
          let outcomes: unknown[];
          try {
            // The lease is checked right before the send, after the wait for a slot of the transport.
            const held = await Promise.all(admitted.map((delivery) => holdLease(delivery)));
            const sending = admitted.filter((delivery, i) => (held[i] ? true : void skipped.add(delivery)));
            // stop() gave up while leases were being renewed: give the messages back untouched instead of sending them with an aborted signal.
            if (sending.length && signal.aborted) sending.forEach((delivery) => stopped.add(delivery));
            if (!sending.length || signal.aborted) return void flow.release(transport, admission.ticket);
            started = clock.now();
            outcomes = await sendDispatch(transport, sending.map((d) => d.message), sending.map((d) => d.attempts), { batched: dispatch.batched, signal, instrumentation });
            sending.forEach((delivery, i) => failures.set(delivery, outcomes[i]));
          } catch (error) {
            flow.release(transport, admission.ticket);
            throw error;
          }
          flow.record(transport, admission.ticket, outcomes);
          // A timeout fails the slot too, so that the limiter slows down to this transport.
          const timedOut = outcomes.find((outcome) => isTransportError(outcome) && outcome.timedOut);
          if (timedOut) throw timedOut;
        });
      } catch (error) {
        for (const delivery of ready) if (!failures.has(delivery) && !skipped.has(delivery) && !stopped.has(delivery) && !deferred.has(delivery)) failures.set(delivery, error ?? new Error('transport rejected without a reason'));
      }
    }
    for (const { report } of deferred) if (report) report.deferred++;
    // Dropped by stop() or held back by flow control: given back untouched, through the one batcher.
    const unsent = deliveries.filter((delivery) => stopped.has(delivery) || deferred.has(delivery));
    const giveBackUnsent = async () => void (await Promise.all(unsent.map((delivery) => deferrals.run(delivery.claim))));
    const settled = deliveries.filter((delivery) => {
      if (stopped.has(delivery) || deferred.has(delivery)) return false;
      if (!skipped.has(delivery)) return true;
      if (delivery.report) delivery.report.fenced++;
      return false;
    });
    if (!settled.length) return unsent.length ? giveBackUnsent : undefined;
    for (const { report } of settled) if (report) report.attempted++;
    return async () => {
      if (unsent.length) await giveBackUnsent();
      const results = await Promise.allSettled(settled.map((delivery) => record(delivery, failures.get(delivery), started, policyOf(delivery))));
      let firstError: unknown;
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') return;
        const { report } = settled[i]!;
        if (report) report.unrecorded++;
        firstError ??= result.reason;
      });
      if (firstError !== undefined) throw firstError;
    };
  }

  async function record(delivery: Delivery, failure: unknown, started: number, policy: RetryPolicy): Promise<void> {
    await recordOutcome(delivery, failure, started, policy);
    // The next message of its key may be claimable now: claim it without waiting for the poll.
    if (delivery.message.key !== undefined) wakeForKeys();
  }

  async function recordOutcome(delivery: Delivery, failure: unknown, started: number, policy: RetryPolicy): Promise<void> {
    const { message, claim, attempts, report } = delivery;
    if (isTransportError(failure) && (failure.notAttempted || failure.busy)) return giveBack(delivery, failure);
    if (!failure) {
      // A keyed row holds back the next of its key until it reads sent: marked at once, not after the window.
      const marked = await completions.run(claim, { urgent: message.key !== undefined });
      if (report) report[marked ? 'sent' : 'fenced']++;
      if (marked) events.emit('sent', { message, attempts, durationMs: clock.now() - started });
      else logger.warn({ id: message.id, type: message.type }, 'sent, but another worker had taken the message over; it may be delivered twice');
      return;
    }
    const outcome = await settleAndAnnounce(failures, delivery, { error: failure, since: message.createdAt, policy });
    if (report) report[outcome.kind === 'retry' ? 'retried' : outcome.kind]++;
  }

  /**
   * Nothing reached the receiver (no connection or slot was free in time),
   * or it answered busy: the claim goes back uncounted. A busy answer does
   * not end a pass (other destinations go on; the paused one is not claimed).
   */
  async function giveBack({ message, claim, report }: Delivery, failure: TransportError): Promise<void> {
    await (failure.busy ? deferrals.run(claim) : store.release([claim]));
    if (report) {
      report.attempted--;
      if (failure.busy) report.deferred++;
      else givenBack.add(report);
    }
    logger.debug({ id: message.id, type: message.type, error: describeError(failure) }, failure.busy ? 'destination busy; given back to the store uncounted' : 'not attempted; given back to the store');
  }

  function build(inputs: readonly MessageInput[]): Message[] {
    const now = new Date(clock.now());
    return inputs.map((input) => {
      const type = input?.type;
      if (typeof type === 'string' && !routes.has(type)) {
        throw new MessageboxError('no_transport', `no transport is configured for message type "${type}": call outbox.configure("${type}", { transport }) at startup`);
      }
      const headers = instrumentation.headers ? { ...instrumentation.headers(), ...input.headers } : input.headers;
      return createMessage({ ...input, ...(headers ? { headers } : {}) }, { source: options.source, now });
    });
  }

  const outbox: Outbox<Tx> = {
    events,
    store,

    configure(type, route) {
      if (typeof type !== 'string' || !type) throw new MessageboxError('invalid_options', 'configure() needs a message type');
      assertDeclared(options.catalog, type, 'outbox.configure()');
      if (!route?.transport || typeof route.transport.send !== 'function') {
        throw new MessageboxError('invalid_options', `configure("${type}") needs a transport with a send() method`);
      }
      const batch = resolveRouteBatch(type, route.transport, route.batch);
      const policy = createRetryPolicy(route.retry, config.retry);
      destinations.add(route.transport);
      flow.add(type, route.transport, route.breaker);
      routes.set(type, { transport: route.transport, policy, batch });
      return outbox;
    },

    types: () => [...routes.keys()],
    destinations: () => flow.snapshot(),

    async transaction(fn) {
      const added: Added[] = [];
      const places: (() => void)[] = [];
      const token = newClaimToken();
      try {
        const result = await store.transaction(async (tx) => {
          openTransactions.set(tx as object, { token, added, places });
          try {
            return await fn(tx);
          } finally {
            openTransactions.delete(tx as object);
          }
        });
        for (const { message } of added) events.emit('created', { message });
        const claimed = added.filter((a) => a.claimed);
        if (claimed.length) service.submitFresh(claimed.map(({ message, leasedAt }) => ({ message, claim: { id: message.id, token }, attempts: 1, leasedAt })));
        if (claimed.length < added.length) runner.wake();
        return result;
      } finally {
        for (const release of places) release(); // submitted by now, or rolled back
      }
    },

    async add(tx: Tx, input: MessageInput<unknown>) {
      const [message] = await outbox.addMany(tx, [input as MessageInput]);
      return message as Message<never>;
    },

    async addMany(tx: Tx, inputs: readonly MessageInput<unknown>[]) {
      const messages = build(options.catalog ? await validateInputs(options.catalog, inputs) : (inputs as readonly MessageInput[]));
      const open = openTransactions.get(tx as object);
      // With the after-commit queue full, or a destination paused or its breaker open, rows are written unclaimed and left to the workers (no release needed later).
      // A place in the after-commit queue is held until the transaction ends, so concurrent transactions cannot all find room and overflow it together.
      const place = open && sendAfterCommit && flow.allClaimable(messages) ? runner.reserve(messages.length) : undefined;
      if (place) open!.places.push(place);
      const claim = place ? { token: open!.token, leaseMs: config.leaseMs } : undefined;
      const leasedAt = leaseClock();
      // A keyed message whose key has an earlier one waiting is left to the worker, which sends the key in order.
      const unclaimed = claim ? await unclaimedForOrder(store, tx, messages, ordering) : undefined;
      await store.add(tx, messages, claim ? { claim, ...(unclaimed?.size ? { unclaimed } : {}) } : {});
      if (open) open.added.push(...messages.map((message) => ({ message, leasedAt, claimed: claim !== undefined && !unclaimed?.has(message.id) })));
      else for (const message of messages) events.emit('created', { message });
      return messages as Message<never>[];
    },

    async deliver(messages) {
      const report = emptyReport();
      const ids = messages.map((m) => (typeof m === 'string' ? m : m.id));
      await service.pipelined(async (run) => {
        for (let i = 0; i < ids.length; i += config.batchSize) {
          const slice = ids.slice(i, i + config.batchSize);
          await run(await claimDeliveries({ ...claimOptions(slice.length), ids: slice }, report));
        }
      });
      return report;
    },

    async resendUnsentMessages(opts = {}) {
      const report = emptyReport();
      await service.pass({
        claim: (limit) => claimDeliveries(claimOptions(limit), report),
        ...(opts.maxMessages === undefined ? {} : { maxMessages: opts.maxMessages }),
        proceed: () => !givenBack.has(report),
      });
      return report;
    },

    start() {
      if (starting) return starting;
      const generation = ++lifecycle;
      const run = async () => {
        if (runner.running) return;
        // Subscribe first: when that fails nothing has started, and a later start() tries again.
        const stopWatching = store.watch && !unwatch ? await store.watch(() => runner.wake()) : undefined;
        if (generation !== lifecycle) return void (await stopWatching?.()); // stop() ran while we were subscribing
        if (stopWatching) unwatch = stopWatching;
        // States written before a stop() were cleared then: write again those that are not plain closed.
        for (const state of flow.snapshot()) if (state.breaker === 'open' || state.breaker === 'half-open' || state.pausedUntil) stateWriter.write(state);
        service.start();
      };
      const current: Promise<void> = run().finally(() => {
        if (starting === current) starting = undefined;
      });
      starting = current;
      return current;
    },

    async stop(opts) {
      lifecycle++;
      starting = undefined;
      const inTime = await service.stop(opts?.timeoutMs ?? config.shutdownTimeoutMs);
      const stopWatching = unwatch;
      unwatch = undefined;
      await stopWatching?.();
      // Bounded: a store that hangs must not hold stop(); rows left behind show their age in `messagebox status`.
      await settlesWithin(stateWriter.clear(), STATE_CLEAR_MS);
      return inTime;
    },

    idle: () => service.idle(),

    async close() {
      await outbox.stop();
      flow.stop();
      const transports = new Set([...routes.values()].map((r) => r.transport));
      await Promise.all([...transports].map((t) => t.close?.()));
    },
  };
  return outbox;
}

/** `<source>@<pid>-<random>`: tells apart the outbox processes whose destination states `messagebox status` shows. */
function defaultWorkerName(source: string | undefined): string {
  const pid = (globalThis as { process?: { pid?: number } }).process?.pid;
  return `${source ?? 'outbox'}@${pid ?? 'worker'}-${Math.random().toString(36).slice(2, 6)}`;
}

function resolveMinLeaseLeft(value: number | undefined, leaseMs: number): number {
  if (value === undefined) return leaseMs / 2;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= leaseMs) {
    throw new MessageboxError('invalid_options', `createOutbox: minLeaseLeftMs must be a number >= 0 and below leaseMs (${leaseMs}), got ${String(value)}`);
  }
  return value;
}

/** The inputs with each payload replaced by its schema's output; rejects (before anything is written) at the first that fails. */
async function validateInputs(catalog: AnyMessageCatalog, inputs: readonly MessageInput<unknown>[]): Promise<MessageInput[]> {
  return Promise.all(inputs.map(async (input) => (catalog.schemaOf(input?.type) ? { ...input, payload: (await validatePayload(catalog, input.type, input.payload)) as MessageInput['payload'] } : (input as MessageInput))));
}
