import {
  backoffDelay,
  createRetryPolicy,
  describeError,
  Events,
  isMessageboxError,
  MessageboxError,
  silentLogger,
  type Inbox,
  type Logger,
  type Message,
  type ReceiveResult,
  type RetryPolicyOptions,
} from '@messagebox/core';
import { jetstream, jetstreamManager, type Consumer, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { connectionHandle, type NatsConnectionOptions } from './nats-connection.js';
import { DEFAULT_NATS_ACK_WAIT_MS, DEFAULT_NATS_MAX_ACK_PENDING, ensureDurableConsumer } from './nats-durable-consumer.js';
import { decodeNatsMessage, NatsHeaderNames } from './nats-wire-format.js';

/** The `MessageboxError` codes of a message that can never be stored: such a message is terminated, never redelivered. */
export const UNSTORABLE_CODES: ReadonlySet<string> = new Set(['invalid_message', 'invalid_payload', 'unknown_type']);

/**
 * Options of {@link createNatsInboxConsumer}.
 *
 * @example
 * createNatsInboxConsumer({ servers: 'nats://127.0.0.1:4222', stream: 'ORDERS', durable: 'ledger', inbox })
 */
export interface NatsInboxConsumerOptions extends NatsConnectionOptions {
  /** The stream to consume. It must exist. */
  stream: string;
  /** The durable consumer's name; every process with the same name shares its messages. Created when absent. */
  durable: string;
  /** Where messages go: `inbox.receive(message)` must resolve once the message is durably stored. */
  inbox: Pick<Inbox<unknown>, 'receive'>;
  /** Only subjects matching this (e.g. `"orders.>"`), when the consumer is created. Default: the whole stream. */
  filterSubject?: string;
  /** The durable consumer's `max_ack_pending`: most messages delivered and not yet acked, over all processes. Default 1 000. */
  maxAckPending?: number;
  /** Most receives this process runs at once; it pulls only as many messages as it has free slots, never more. Default 64. */
  concurrency?: number;
  /**
   * How long one pull waits for messages. A stop waits for the pull in
   * progress to end (messages it brings after the stop are handed back at
   * once with `nak`), so this bounds how long a stop takes besides the
   * receives in flight. Default 2 000 ms (at least 1 000).
   */
  fetchExpiresMs?: number;
  /** The durable consumer's `ack_wait`: a message not acked this long after delivery is redelivered. Default 30 000 ms. */
  ackWaitMs?: number;
  /**
   * Where a message that can never be stored is also published (through
   * JetStream, awaiting its PubAck), with its original headers and body plus
   * `Messagebox-Dead-Reason`, `-Code`, `-Stream`, `-Sequence` and `-Subject`.
   * A stream must capture it, and it must not be a subject this consumer
   * reads. Default: none (the message is only terminated).
   */
  deadLetterSubject?: string;
  /** Backoff of the redelivery (`nak` delay) after a store failure, by delivery count. Default 1 s doubling up to 60 s. */
  retry?: Pick<RetryPolicyOptions, 'initialDelayMs' | 'factor' | 'maxDelayMs' | 'jitter'>;
  /** Default `silentLogger`. */
  logger?: Logger;
}

/** Events of a {@link NatsInboxConsumer}. */
export interface NatsInboxConsumerEventMap {
  /** Stored (`created`) or known already (`duplicate`), and acked. */
  acked: { message: Message; status: ReceiveResult['status']; sequence: number };
  /** Could never be stored: terminated with `reason` (and published to the dead-letter subject when one is set). */
  terminated: { sequence: number; subject: string; code: string; reason: string; deadLettered: boolean };
  /** Storing failed (or the dead-letter publish did): redelivered after `delayMs`. */
  failed: { sequence: number; subject: string; error: string; delayMs: number };
}

/** A running consumer of one durable JetStream consumer, feeding an inbox. */
export interface NatsInboxConsumer {
  readonly events: Events<NatsInboxConsumerEventMap>;
  /** Creates the durable consumer when absent and starts pulling. */
  start(): Promise<void>;
  /**
   * Stops pulling (the pull in progress ends within `fetchExpiresMs`;
   * what it still brings is handed back with `nak`), waits for the
   * receives in flight to be stored and acked, then drains and closes a
   * connection it opened. Resolves true when all of it finished within
   * `timeoutMs` (default 30 000); the connection is drained either way (a
   * receive that finishes later cannot ack: its message comes back after
   * `ack_wait` and is a duplicate then). A stopped consumer is not started
   * again: create a new one.
   */
  stop(options?: { timeoutMs?: number }): Promise<boolean>;
}

/**
 * Feeds a durable JetStream pull consumer (explicit ack) into an inbox.
 * Each message is acked only after `inbox.receive` resolved (stored, or a
 * duplicate). A message that can never be stored (`invalid_message`,
 * `invalid_payload`, `unknown_type`) is terminated (`term` with its reason)
 * and, with `deadLetterSubject`, published there first. Any other failure
 * is a store failure: `nak` with a backoff delay, redelivered. Several
 * processes with the same `durable` share the messages.
 *
 * @example
 * const consumer = createNatsInboxConsumer({ servers: 'nats://127.0.0.1:4222', stream: 'ORDERS', durable: 'ledger', inbox });
 * await consumer.start();
 * process.on('SIGTERM', () => consumer.stop());
 */
export function createNatsInboxConsumer(options: NatsInboxConsumerOptions): NatsInboxConsumer {
  if (!options || typeof options !== 'object') throw new MessageboxError('invalid_options', 'createNatsInboxConsumer needs options');
  for (const field of ['stream', 'durable'] as const) {
    if (typeof options[field] !== 'string' || !options[field]) throw new MessageboxError('invalid_options', `createNatsInboxConsumer needs \`${field}\``);
  }
  if (typeof options.inbox?.receive !== 'function') throw new MessageboxError('invalid_options', 'createNatsInboxConsumer needs an `inbox`');
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 64);
  const maxAckPending = positiveInteger('maxAckPending', options.maxAckPending ?? DEFAULT_NATS_MAX_ACK_PENDING);
  const ackWaitMs = positiveInteger('ackWaitMs', options.ackWaitMs ?? DEFAULT_NATS_ACK_WAIT_MS);
  const fetchExpiresMs = positiveInteger('fetchExpiresMs', options.fetchExpiresMs ?? 2_000);
  if (fetchExpiresMs < 1_000) throw new MessageboxError('invalid_options', `createNatsInboxConsumer: fetchExpiresMs must be at least 1000, got ${fetchExpiresMs}`);
  const policy = createRetryPolicy({ initialDelayMs: 1_000, maxDelayMs: 60_000, ...options.retry });
  const logger = options.logger ?? silentLogger;
  const events = new Events<NatsInboxConsumerEventMap>(() => logger);
  const connection = connectionHandle(options, 'createNatsInboxConsumer');
  const { stream, durable, inbox } = options;

  let js: JetStreamClient | undefined;
  let termTakesReason = false;
  let loop: Promise<void> | undefined;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;

  async function ensureConsumer(): Promise<void> {
    const nc = await connection.get();
    js = jetstream(nc);
    termTakesReason = serverAtLeast(nc.info?.version, [2, 11, 0]);
    await ensureDurableConsumer(await jetstreamManager(nc), stream, { durable, maxAckPending, ackWaitMs, filterSubject: options.filterSubject });
  }

  async function run(): Promise<void> {
    let consumer: Consumer | undefined;
    while (!stopping) {
      while (inFlight.size >= concurrency && !stopping) await new Promise<void>((resolve) => (slotFreed = resolve));
      if (stopping) break;
      try {
        consumer ??= await js!.consumers.get(stream, durable);
        const batch = await consumer.fetch({ max_messages: concurrency - inFlight.size, expires: fetchExpiresMs });
        for await (const msg of batch) {
          if (stopping) {
            msg.nak();
            continue;
          }
          const task = handle(msg)
            .catch((error: unknown) => logger.error({ stream, durable, sequence: msg.seq, error: describeError(error) }, 'NATS consumer: settling a message failed; it comes back after ack_wait'))
            .finally(() => {
              inFlight.delete(task);
              slotFreed?.();
              slotFreed = undefined;
            });
          inFlight.add(task);
        }
      } catch (error) {
        if (stopping) break;
        consumer = undefined;
        logger.error({ stream, durable, error: describeError(error) }, 'NATS consumer: pulling failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  async function handle(msg: JsMsg): Promise<void> {
    const sequence = msg.seq;
    let message: Message;
    try {
      message = decodeNatsMessage(msg);
    } catch (error) {
      return reject(msg, error);
    }
    let result: ReceiveResult;
    try {
      result = await inbox.receive(message);
    } catch (error) {
      if (isMessageboxError(error) && UNSTORABLE_CODES.has(error.code)) return reject(msg, error);
      return retryLater(msg, error);
    }
    msg.ack();
    events.emit('acked', { message, status: result.status, sequence });
  }

  async function reject(msg: JsMsg, error: unknown): Promise<void> {
    const code = isMessageboxError(error) ? error.code : 'invalid_message';
    const reason = `${code}: ${describeError(error, 500)}`;
    if (options.deadLetterSubject) {
      try {
        await publishDeadLetter(msg, code, reason);
      } catch (deadLetterError) {
        return retryLater(msg, deadLetterError);
      }
    }
    if (termTakesReason) msg.term(reason);
    else msg.term();
    logger.warn({ stream, durable, sequence: msg.seq, subject: msg.subject, reason }, 'NATS consumer: message can never be stored; terminated');
    events.emit('terminated', { sequence: msg.seq, subject: msg.subject, code, reason, deadLettered: Boolean(options.deadLetterSubject) });
  }

  async function publishDeadLetter(msg: JsMsg, code: string, reason: string): Promise<void> {
    const h = natsHeaders();
    for (const name of msg.headers?.keys() ?? []) {
      if (!name.toLowerCase().startsWith('nats-')) for (const value of msg.headers!.values(name)) h.append(name, value);
    }
    h.set(NatsHeaderNames.deadReason, reason);
    h.set(NatsHeaderNames.deadCode, code);
    h.set(NatsHeaderNames.deadStream, stream);
    h.set(NatsHeaderNames.deadSequence, String(msg.seq));
    h.set(NatsHeaderNames.deadSubject, msg.subject);
    await js!.publish(options.deadLetterSubject!, msg.data, { headers: h, msgID: `dead:${stream}:${msg.seq}` });
  }

  function retryLater(msg: JsMsg, error: unknown): void {
    const delayMs = Math.round(backoffDelay(policy, msg.info.deliveryCount));
    msg.nak(delayMs);
    const text = describeError(error);
    logger.warn({ stream, durable, sequence: msg.seq, error: text, delayMs }, 'NATS consumer: storing failed; redelivery later');
    events.emit('failed', { sequence: msg.seq, subject: msg.subject, error: text, delayMs });
  }

  return {
    events,
    async start() {
      if (loop) return;
      stopping = false;
      await ensureConsumer();
      loop = run();
    },
    async stop(opts = {}) {
      stopping = true;
      slotFreed?.();
      const timeoutMs = opts.timeoutMs ?? 30_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const inTime = await Promise.race([
        (async () => {
          await loop?.catch(() => undefined);
          await Promise.all([...inFlight]);
          return true;
        })(),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      loop = undefined;
      await connection.close();
      return inTime;
    },
  };
}

/**
 * Servers before 2.11 do not parse `+TERM <reason>`: they ignore it, and
 * the message comes back after `ack_wait`, forever. So the reason goes with
 * the term only from 2.11 on (it then shows in the MSG_TERMINATED advisory).
 */
function serverAtLeast(version: string | undefined, wanted: readonly number[]): boolean {
  const parts = (version ?? '').split(/[.-]/).slice(0, 3).map(Number);
  for (let i = 0; i < wanted.length; i++) {
    const part = parts[i] ?? 0;
    if (!Number.isFinite(part)) return false;
    if (part !== wanted[i]) return part > wanted[i]!;
  }
  return true;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new MessageboxError('invalid_options', `createNatsInboxConsumer: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
