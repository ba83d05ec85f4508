import { describeError, escapeControlCharacters, isMessageboxError, MessageboxError, quoteInput, silentLogger, truncateText, type Logger, type Message, type ReceiveResult } from '@messagebox/core';
import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { closeModel, describeAmqpUrl, openAmqpConnection, type AmqpUrl } from './connection.js';
import { DEAD_LETTER_CODE_HEADER, DEAD_LETTER_ID_HEADER, DEAD_LETTER_QUEUE_HEADER, DEAD_LETTER_REASON_HEADER, decodeAmqpMessage } from './wire-format.js';

export const DEFAULT_AMQP_PREFETCH = 32;
export const DEFAULT_REQUEUE_DELAY_MS = 1_000;

/** The error codes that mean a message can never be stored: it is dead-lettered, never requeued. */
export const UNSTORABLE_CODES: readonly string[] = ['invalid_message', 'invalid_payload', 'unknown_type'];

/** The part of an inbox the consumer uses (any `Inbox` from `createInbox`). */
export interface AmqpConsumerInbox {
  receive(message: Message): Promise<ReceiveResult>;
}

export interface AmqpInboxConsumerOptions {
  /** `amqp://user:password@host:5672/vhost` or amqplib's connect options. */
  url: AmqpUrl;
  /** The queue to consume (declare it in `setup` or beforehand). */
  queue: string;
  inbox: AmqpConsumerInbox;
  /** Unacknowledged messages this consumer holds at most, all stored concurrently; default 32. */
  prefetch?: number;
  /**
   * Where a message that can never be stored goes (invalid, unknown type):
   * it is published there, with its reason in headers, and acknowledged once
   * the broker confirmed that copy. Without it such a message is rejected
   * without requeue, so the queue's own `x-dead-letter-exchange` (if any)
   * takes it, without the reason.
   */
  deadLetterExchange?: string;
  /** Routing key of dead-lettered copies; default the message's own routing key. */
  deadLetterRoutingKey?: string;
  /** How long a message whose store failed is held before it is requeued; default 1 000 ms. */
  requeueDelayMs?: number;
  /** Longest wait between reconnect attempts (they back off from 100 ms); default 5 000 ms. */
  maxReconnectDelayMs?: number;
  /** Connect and confirm timeout; default 10 000 ms. */
  timeoutMs?: number;
  /** The source of messages published without `appId` (a non-messagebox publisher). */
  defaultSource?: string;
  /** Runs on the consuming channel after every (re)connect, before consuming: declare the queue and its bindings. */
  setup?: (channel: Channel) => Promise<void>;
  /** The client-provided connection name the broker shows; default `messagebox consumer <queue>`. */
  connectionName?: string;
  logger?: Logger;
}

/** A running (or stopped) consumer of one queue into one inbox. */
export interface AmqpInboxConsumer {
  /** Connects and starts consuming; resolves once the broker registered the consumer. Rejects when the first connection fails. */
  start(): Promise<void>;
  /**
   * Stops gracefully: cancels the consumer (no new deliveries), waits for the
   * stores in flight and their acks (up to `timeoutMs`, default 30 000),
   * requeues at once the messages waiting for a retry, and closes the
   * connection; whatever was not acknowledged is redelivered by the broker.
   * Resolves true when every store in flight finished in time.
   */
  stop(options?: { timeoutMs?: number }): Promise<boolean>;
  /** Messages being stored or waiting to be requeued right now. */
  readonly inFlight: number;
}

interface Session {
  readonly model: ChannelModel;
  readonly channel: Channel;
  readonly deadLetters: ConfirmChannel | undefined;
  /** Dead-letter copies (by their {@link DEAD_LETTER_ID_HEADER}) the broker returned as unroutable. */
  readonly returned: Set<string>;
  consumerTag: string | undefined;
  closed: boolean;
}

/**
 * Consumes a RabbitMQ queue into an inbox: manual acknowledgement, at most
 * `prefetch` unacknowledged messages, each acknowledged only after
 * `inbox.receive` resolved (stored, or a duplicate). A message that can never
 * be stored (`invalid_message`, `invalid_payload`, `unknown_type`) goes to
 * `deadLetterExchange` with its reason; a store failure is requeued after
 * `requeueDelayMs`. Reconnects by itself. Several consumers (in one process
 * or many) can share one queue: the broker spreads the messages.
 *
 * @example
 * const consumer = createAmqpInboxConsumer({
 *   url: 'amqp://guest:guest@127.0.0.1:5672', queue: 'billing', inbox,
 *   prefetch: 32, deadLetterExchange: 'billing.dead',
 * });
 * await consumer.start();
 * process.on('SIGTERM', () => consumer.stop());
 */
export function createAmqpInboxConsumer(options: AmqpInboxConsumerOptions): AmqpInboxConsumer {
  if (!options || typeof options !== 'object') throw new MessageboxError('invalid_options', 'createAmqpInboxConsumer needs options with `url`, `queue` and `inbox`');
  if (typeof options.queue !== 'string' || options.queue === '') throw new MessageboxError('invalid_options', 'createAmqpInboxConsumer: `queue` must be a non-empty string');
  if (typeof options.inbox?.receive !== 'function') throw new MessageboxError('invalid_options', 'createAmqpInboxConsumer: `inbox` must have a receive(message) method');
  const prefetch = positiveInteger(options.prefetch ?? DEFAULT_AMQP_PREFETCH, 'prefetch');
  const requeueDelayMs = nonNegative(options.requeueDelayMs ?? DEFAULT_REQUEUE_DELAY_MS, 'requeueDelayMs');
  const maxReconnectDelayMs = positiveInteger(options.maxReconnectDelayMs ?? 5_000, 'maxReconnectDelayMs');
  const timeoutMs = positiveInteger(options.timeoutMs ?? 10_000, 'timeoutMs');
  const { queue, inbox } = options;
  const logger = options.logger ?? silentLogger;
  const connectionName = options.connectionName ?? `messagebox consumer ${queue}`;
  const where = describeAmqpUrl(options.url);

  let session: Session | undefined;
  let state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let reconnectAttempt = 0;
  const inFlight = new Set<Promise<void>>();
  const waitingRequeue = new Map<ReturnType<typeof setTimeout>, () => void>();

  async function connect(): Promise<void> {
    const model = await openAmqpConnection(options.url, connectionName, timeoutMs);
    const s: Session = { model, channel: undefined as unknown as Channel, deadLetters: undefined, returned: new Set(), consumerTag: undefined, closed: false };
    model.on('error', (error: Error) => logger.warn({ queue, error: describeError(error) }, 'AMQP consumer connection error'));
    model.on('close', () => lost(s));
    try {
      const channel = await model.createChannel();
      (s as { channel: Channel }).channel = channel;
      channel.on('error', (error: Error) => logger.warn({ queue, error: describeError(error) }, 'AMQP consumer channel error'));
      channel.on('close', () => lost(s));
      if (options.deadLetterExchange !== undefined) {
        const deadLetters = await model.createConfirmChannel();
        (s as { deadLetters: ConfirmChannel }).deadLetters = deadLetters;
        deadLetters.on('error', (error: Error) => logger.warn({ queue, error: describeError(error) }, 'AMQP dead-letter channel error'));
        deadLetters.on('close', () => lost(s));
        deadLetters.on('return', (copy: { properties: { headers?: Record<string, unknown> } }) => {
          const id = copy.properties.headers?.[DEAD_LETTER_ID_HEADER];
          if (typeof id === 'string') s.returned.add(id);
        });
      }
      if (options.setup) await options.setup(channel);
      await channel.prefetch(prefetch);
      session = s;
      const reply = await channel.consume(queue, (delivery) => {
        if (delivery === null) {
          logger.warn({ queue }, 'the broker cancelled the AMQP consumer (queue deleted?); reconnecting');
          lost(s);
          return;
        }
        handle(s, delivery);
      });
      s.consumerTag = reply.consumerTag;
      reconnectAttempt = 0;
    } catch (error) {
      s.closed = true;
      if (session === s) session = undefined;
      await closeModel(model, timeoutMs);
      throw error;
    }
  }

  function lost(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    if (session === s) session = undefined;
    void closeModel(s.model, timeoutMs);
    if (state === 'running') scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (reconnectTimer || state !== 'running') return;
    const delay = Math.min(maxReconnectDelayMs, 100 * 2 ** reconnectAttempt++);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (state !== 'running') return;
      connect().catch((error: unknown) => {
        logger.warn({ queue, error: describeError(error) }, `could not reconnect the AMQP consumer to ${where}; trying again`);
        scheduleReconnect();
      });
    }, delay);
  }

  function handle(s: Session, delivery: ConsumeMessage): void {
    const job = settleDelivery(s, delivery).catch((error: unknown) => {
      logger.error({ queue, error: describeError(error) }, 'AMQP consumer failed to settle a delivery; the broker redelivers it');
    });
    inFlight.add(job);
    job.finally(() => inFlight.delete(job));
  }

  async function settleDelivery(s: Session, delivery: ConsumeMessage): Promise<void> {
    let result: ReceiveResult;
    try {
      result = await inbox.receive(decodeAmqpMessage(delivery, { defaultSource: options.defaultSource }));
    } catch (error) {
      if (isMessageboxError(error) && UNSTORABLE_CODES.includes(error.code)) {
        await deadLetter(s, delivery, error);
        return;
      }
      logger.warn({ queue, messageId: delivery.properties.messageId, error: describeError(error) }, `storing an AMQP message failed; requeueing it in ${requeueDelayMs} ms`);
      await requeueLater(s, delivery);
      return;
    }
    if (!s.closed) s.channel.ack(delivery);
    logger.debug({ queue, messageId: delivery.properties.messageId, status: result.status }, 'AMQP message stored and acknowledged');
  }

  async function deadLetter(s: Session, delivery: ConsumeMessage, error: MessageboxError): Promise<void> {
    const reason = truncateText(escapeControlCharacters(describeError(error)), 1000);
    logger.warn({ queue, messageId: delivery.properties.messageId, code: error.code, reason }, 'AMQP message can never be stored; dead-lettering it');
    if (options.deadLetterExchange === undefined || !s.deadLetters) {
      if (!s.closed) s.channel.reject(delivery, false);
      return;
    }
    const { properties } = delivery;
    const copyId = randomUUID();
    const headers = {
      ...(properties.headers ?? {}),
      [DEAD_LETTER_REASON_HEADER]: reason,
      [DEAD_LETTER_CODE_HEADER]: error.code,
      [DEAD_LETTER_QUEUE_HEADER]: queue,
      [DEAD_LETTER_ID_HEADER]: copyId,
    };
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no confirm for the dead-letter copy within ${timeoutMs} ms`)), timeoutMs);
        const settle = (error?: Error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        s.deadLetters!.publish(
          options.deadLetterExchange!,
          options.deadLetterRoutingKey ?? delivery.fields.routingKey,
          delivery.content,
          { ...definedProperties(properties), persistent: true, mandatory: true, headers },
          (err: unknown) => {
            if (err) settle(err instanceof Error ? err : new Error(String(err)));
            else if (s.returned.delete(copyId)) settle(new Error(`the dead-letter exchange ${quoteInput(options.deadLetterExchange)} routed the copy to no queue`));
            else settle();
          },
        );
      });
    } catch (publishError) {
      logger.warn({ queue, messageId: properties.messageId, error: describeError(publishError) }, `could not dead-letter the AMQP message; requeueing it in ${requeueDelayMs} ms`);
      await requeueLater(s, delivery);
      return;
    }
    if (!s.closed) s.channel.ack(delivery);
  }

  function requeueLater(s: Session, delivery: ConsumeMessage): Promise<void> {
    return new Promise<void>((resolve) => {
      const requeue = () => {
        clearTimeout(timer);
        waitingRequeue.delete(timer);
        if (!s.closed) s.channel.nack(delivery, false, true);
        resolve();
      };
      const timer = setTimeout(requeue, state === 'running' ? requeueDelayMs : 0);
      waitingRequeue.set(timer, requeue);
    });
  }

  return {
    get inFlight() {
      return inFlight.size;
    },
    async start() {
      if (state !== 'idle') throw new MessageboxError('invalid_options', `the AMQP consumer of ${quoteInput(queue)} was already started`);
      state = 'running';
      try {
        await connect();
      } catch (error) {
        state = 'stopped';
        throw new MessageboxError('transport_failed', `could not start consuming ${quoteInput(queue)} at ${where}: ${describeError(error, 300)}`, { cause: error });
      }
    },
    async stop(stopOptions = {}) {
      if (state === 'stopped' || state === 'idle') {
        state = 'stopped';
        return true;
      }
      state = 'stopping';
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const s = session;
      if (s && !s.closed && s.consumerTag !== undefined) await s.channel.cancel(s.consumerTag).catch(() => {});
      for (const requeue of [...waitingRequeue.values()]) requeue();
      const limit = stopOptions.timeoutMs ?? 30_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finished = await Promise.race([
        Promise.allSettled([...inFlight]).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), limit))),
      ]);
      clearTimeout(timer);
      state = 'stopped';
      if (s && !s.closed) {
        s.closed = true;
        // Channel first: its close-ok comes after the broker took every ack sent on it (the connection's close could overtake them).
        await withTimeout(s.channel.close(), timeoutMs);
        if (s.deadLetters) await withTimeout(s.deadLetters.close(), timeoutMs);
        await closeModel(s.model, timeoutMs);
      }
      return finished;
    },
  };
}

function definedProperties(properties: ConsumeMessage['properties']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['contentType', 'contentEncoding', 'priority', 'correlationId', 'replyTo', 'messageId', 'timestamp', 'type', 'appId'] as const) {
    if (properties[key] !== undefined) out[key] = properties[key];
  }
  return out;
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new MessageboxError('invalid_options', `createAmqpInboxConsumer: ${field} must be a positive integer, got ${quoteInput(value)}`);
  return value;
}

function nonNegative(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0) throw new MessageboxError('invalid_options', `createAmqpInboxConsumer: ${field} must be a non-negative number, got ${quoteInput(value)}`);
  return value;
}

async function withTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
