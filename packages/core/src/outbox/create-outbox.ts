import { describeError, MessageboxError, TransportError } from '../errors.js';
import { Events } from '../events.js';
import type { JsonValue } from '../json.js';
import { createMessage, newClaimToken, type Message, type MessageInput } from '../message.js';
import type { Claim } from '../ports/claim.js';
import type { ClaimedOutboxMessage, OutboxStore } from '../ports/outbox-store.js';
import type { Transport } from '../ports/transport.js';
import { createRetryPolicy, type RetryPolicy, type RetryPolicyOptions } from '../retry-policy.js';
import { resolveServiceOptions, type ServiceOptions } from '../service-options.js';
import { CompletionBatcher } from '../internal/completion-batcher.js';
import { DestinationLimiters } from '../internal/destination-limiter.js';
import { exhaustedBeforeStart, settleFailure } from '../internal/settle-failure.js';
import { PeriodicTask } from '../internal/periodic-task.js';
import { WorkRunner } from '../internal/work-runner.js';
import type { Instrumentation } from '../instrumentation.js';
import { purgeInBatches, resolveRetention, type RetentionOptions } from '../retention.js';
import type { OutboxEventMap } from './outbox-events.js';
import { emptyReport, type DeliveryReport } from './outbox-report.js';

export interface OutboxOptions<Tx> extends ServiceOptions {
  store: OutboxStore<Tx>;
  /** Default `source` of messages created here, e.g. the service name. */
  source?: string;
  /** Attempt delivery right after commit of `outbox.transaction()`. Default true. */
  sendAfterCommit?: boolean;
  /** Tracing and metrics hooks (see `@messagebox/opentelemetry`). */
  instrumentation?: Instrumentation;
  /** How long sent rows are kept before the worker deletes them; `false` keeps them forever. Default 7 days. */
  retention?: RetentionOptions | false;
}

/** How messages of one type are delivered. */
export interface OutboxRoute {
  transport: Transport;
  /** Overrides fields of the outbox's retry policy for this type. */
  retry?: RetryPolicyOptions;
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
 */
export interface Outbox<Tx> {
  readonly events: Events<OutboxEventMap>;
  readonly store: OutboxStore<Tx>;

  /** Sets the transport (and optional retry policy) for a message type. Returns the outbox. */
  configure(type: string, route: OutboxRoute): Outbox<Tx>;
  /** The configured message types. */
  types(): string[];

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
   */
  add<P extends JsonValue>(tx: Tx, input: MessageInput<P>): Promise<Message<P>>;
  /** Like {@link Outbox.add} for several messages, in one insert. */
  addMany(tx: Tx, inputs: readonly MessageInput[]): Promise<Message[]>;

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
  report?: DeliveryReport;
}

export function createOutbox<Tx>(options: OutboxOptions<Tx>): Outbox<Tx> {
  if (!options?.store) throw new MessageboxError('invalid_options', 'createOutbox needs a `store`');
  const store = options.store;
  const config = resolveServiceOptions(options, 'createOutbox');
  const { clock, logger } = config;
  const sendAfterCommit = options.sendAfterCommit ?? true;
  const routes = new Map<string, { transport: Transport; policy: RetryPolicy }>();
  const events = new Events<OutboxEventMap>(() => logger);
  const openTransactions = new WeakMap<object, { token: string; added: Message[] }>();
  const completions = new CompletionBatcher((claims) => store.markSent(claims));
  const destinations = new DestinationLimiters({ fallback: config.concurrency, maxWaitMs: config.leaseMs / 2 });
  const instrumentation = options.instrumentation ?? {};
  const retention = resolveRetention(options.retention, 'createOutbox');
  const purger =
    retention &&
    new PeriodicTask(async () => {
      try {
        const deleted = await purgeInBatches((o) => store.purge(o), { olderThanMs: retention.keepMs, batchSize: retention.batchSize });
        if (deleted) logger.info({ deleted }, 'outbox retention: deleted sent messages');
      } catch (error) {
        logger.error({ error: describeError(error) }, 'outbox retention: purge failed; will try again');
      }
    }, retention.intervalMs);
  let unwatch: (() => Promise<void>) | undefined;

  const runner = new WorkRunner<Delivery>(
    {
      claim: async (limit) => (routes.size === 0 ? [] : toDeliveries(await store.claimDue(claimOptions(limit)))),
      process: (delivery, signal) => attempt(delivery, signal),
      release: async (items) => void (await store.release(items.map((d) => d.claim))),
    },
    { name: 'outbox', ...config },
  );

  /** Claims only configured types: a process never takes messages it cannot send (rolling deploys). */
  function claimOptions(limit: number) {
    return { limit, leaseMs: config.leaseMs, token: newClaimToken(), types: [...routes.keys()] };
  }

  function toDeliveries(rows: ClaimedOutboxMessage[], report?: DeliveryReport): Delivery[] {
    return rows.map((row) => ({
      message: { id: row.id, source: row.source, type: row.type, payload: row.payload, headers: row.headers, createdAt: row.createdAt },
      claim: { id: row.id, token: row.token },
      attempts: row.attempts,
      ...(report ? { report } : {}),
    }));
  }

  async function attempt(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const { message, claim, attempts, report } = delivery;
    const route = routes.get(message.type);
    const policy = route?.policy ?? config.retry;
    const started = clock.now();
    let failure: unknown = exhaustedBeforeStart(attempts, policy);
    if (!failure) {
      try {
        if (!route) throw new MessageboxError('no_transport', `no transport is configured for message type "${message.type}"`);
        const send = () => destinations.run(route.transport, signal, () => route.transport.send(message, { signal, attempt: attempts }));
        await (instrumentation.send ? instrumentation.send(message, attempts, send) : send());
      } catch (error) {
        failure = error ?? new Error('transport rejected without a reason');
      }
    }
    if (report) report.attempted++;
    try {
      await record(delivery, failure, started, policy);
    } catch (error) {
      if (report) report.unrecorded++;
      throw error;
    }
  }

  async function record(delivery: Delivery, failure: unknown, started: number, policy: RetryPolicy): Promise<void> {
    const { message, claim, attempts, report } = delivery;
    if (failure instanceof TransportError && failure.notAttempted) return giveBack(delivery, failure);
    if (!failure) {
      const marked = await completions.complete(claim);
      if (report) report[marked ? 'sent' : 'fenced']++;
      if (marked) events.emit('sent', { message, attempts, durationMs: clock.now() - started });
      else logger.warn({ id: message.id, type: message.type }, 'sent, but another worker had taken the message over; it may be delivered twice');
      return;
    }
    const outcome = await settleFailure(store, claim, { attempts, createdAt: message.createdAt, error: failure }, { policy, clock, random: config.random });
    if (outcome.kind === 'retry') {
      if (report) report.retried++;
      logger.info({ id: message.id, type: message.type, attempts, error: outcome.error, delayMs: outcome.delayMs }, 'delivery failed; will retry');
      events.emit('failed', { message, attempts, error: outcome.error, delayMs: outcome.delayMs, retryAt: outcome.retryAt });
    } else if (outcome.kind === 'dead') {
      if (report) report.dead++;
      logger.warn({ id: message.id, type: message.type, attempts, error: outcome.error }, 'message is dead');
      events.emit('dead', { message, attempts, error: outcome.error });
    } else if (report) report.fenced++;
  }

  /** Nothing reached the receiver (no connection or slot was free in time): the claim goes back uncounted. */
  async function giveBack({ message, claim, report }: Delivery, failure: TransportError): Promise<void> {
    await store.release([claim]);
    if (report) report.attempted--;
    logger.debug({ id: message.id, type: message.type, error: describeError(failure) }, 'not attempted; given back to the store');
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
      if (!route?.transport || typeof route.transport.send !== 'function') {
        throw new MessageboxError('invalid_options', `configure("${type}") needs a transport with a send() method`);
      }
      destinations.add(route.transport);
      routes.set(type, { transport: route.transport, policy: createRetryPolicy(route.retry, config.retry) });
      return outbox;
    },

    types: () => [...routes.keys()],

    async transaction(fn) {
      const added: Message[] = [];
      const token = newClaimToken();
      const result = await store.transaction(async (tx) => {
        openTransactions.set(tx as object, { token, added });
        try {
          return await fn(tx);
        } finally {
          openTransactions.delete(tx as object);
        }
      });
      for (const message of added) events.emit('created', { message });
      if (added.length) {
        if (sendAfterCommit) runner.submit(added.map((message) => ({ message, claim: { id: message.id, token }, attempts: 1 })));
        else runner.wake();
      }
      return result;
    },

    async add(tx, input) {
      const [message] = await outbox.addMany(tx, [input]);
      return message as Message<never>;
    },

    async addMany(tx, inputs) {
      const messages = build(inputs);
      const open = openTransactions.get(tx as object);
      const claim = open && sendAfterCommit ? { token: open.token, leaseMs: config.leaseMs } : undefined;
      await store.add(tx, messages, claim ? { claim } : {});
      if (open) open.added.push(...messages);
      else for (const message of messages) events.emit('created', { message });
      return messages;
    },

    async deliver(messages) {
      const report = emptyReport();
      const ids = messages.map((m) => (typeof m === 'string' ? m : m.id));
      for (let i = 0; i < ids.length; i += config.batchSize) {
        const slice = ids.slice(i, i + config.batchSize);
        const rows = routes.size === 0 ? [] : await store.claimDue({ ...claimOptions(slice.length), ids: slice });
        await runner.process(toDeliveries(rows, report));
      }
      return report;
    },

    async resendUnsentMessages(opts = {}) {
      const report = emptyReport();
      const maxMessages = opts.maxMessages ?? Number.POSITIVE_INFINITY;
      for (;;) {
        const limit = Math.min(config.batchSize, maxMessages - report.attempted);
        if (limit <= 0) break;
        const rows = routes.size === 0 ? [] : await store.claimDue(claimOptions(limit));
        const before = report.attempted;
        await runner.process(toDeliveries(rows, report));
        if (rows.length < limit || report.attempted === before) break; // all given back: the transport is saturated, stop this pass
      }
      return report;
    },

    async start() {
      if (runner.running) return;
      runner.start();
      purger?.start();
      if (!store.watch || unwatch) return;
      const stopWatching = await store.watch(() => runner.wake());
      if (runner.running && !unwatch) unwatch = stopWatching;
      else await stopWatching(); // stop() ran while we were subscribing
    },

    async stop(opts) {
      const [inTime] = await Promise.all([runner.stop(opts?.timeoutMs ?? config.shutdownTimeoutMs), purger?.stop()]);
      const stopWatching = unwatch;
      unwatch = undefined;
      await stopWatching?.();
      return inTime;
    },

    idle: () => runner.idle(),

    async close() {
      await outbox.stop();
      const transports = new Set([...routes.values()].map((r) => r.transport));
      await Promise.all([...transports].map((t) => t.close?.()));
    },
  };
  return outbox;
}
