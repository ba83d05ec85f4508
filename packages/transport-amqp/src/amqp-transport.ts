import {
  describeError,
  isTransportError,
  MessageboxError,
  quoteInput,
  TransportError,
  type Message,
  type SendBatchContext,
  type SendContext,
  type SendOutcome,
  type Transport,
} from '@messagebox/core';
import type { Channel, ChannelModel, ConfirmChannel, Message as AmqpMessage } from 'amqplib';
import { closeModel, describeAmqpUrl, openAmqpConnection, type AmqpUrl } from './connection.js';
import { encodeAmqpBody, encodeAmqpProperties } from './wire-format.js';

export const DEFAULT_AMQP_TIMEOUT_MS = 10_000;
export const DEFAULT_AMQP_MAX_CONCURRENCY = 100;
/** The AMQP reply code of a mandatory message the exchange could not route. */
export const AMQP_NO_ROUTE = 312;

export interface AmqpTransportOptions {
  /** `amqp://user:password@host:5672/vhost` or amqplib's connect options. */
  url: AmqpUrl;
  /** The exchange every message is published to (declare it in `setup` or beforehand). */
  exchange: string;
  /** The routing key of a message; default its `type`. */
  routingKey?: (message: Message) => string;
  /**
   * Publish `mandatory` (default true): a message the exchange cannot route
   * to any queue comes back and `send` rejects (retryable: a binding may be
   * added later). `false`: the broker's confirm is enough, even when the
   * message reached no queue and was dropped.
   */
  mandatory?: boolean;
  /** Longest wait from publishing to the broker's confirm, and for a connection; default 10 000 ms. */
  timeoutMs?: number;
  /** Publishes in flight at most (the transport's `maxConcurrency`, see the Transport port); default 100. */
  maxConcurrency?: number;
  /** Runs on the confirm channel after every (re)connect, before the first publish: declare exchanges, queues, bindings. */
  setup?: (channel: Channel) => Promise<void>;
  /** Shown in logs and errors; default `amqp:<exchange>`. */
  name?: string;
  /** The client-provided connection name the broker shows; default `messagebox transport <name>`. */
  connectionName?: string;
}

/** @deprecated Core's `SendOutcome` (the `Transport.sendBatch` port); kept as an alias. */
export type AmqpSendOutcome = SendOutcome;

/** @deprecated Core's `SendBatchContext` (the `Transport.sendBatch` port); kept as an alias. */
export type AmqpSendBatchContext = SendBatchContext;

/** A {@link Transport} to RabbitMQ with `sendBatch` and `close`. */
export interface AmqpTransport extends Transport {
  readonly maxConcurrency: number;
  /**
   * Publishes every message of the batch on one channel and waits for each
   * one's own confirm: one outcome per message, in order; a batch never
   * succeeds or fails as a whole. A failed outcome's `error` is always a
   * `TransportError`. Never rejects. `context.signal` aborts the waits for
   * confirms; `context.attempts` is not used.
   *
   * @example
   * outbox.configure('order.placed', { transport, batch: { maxMessages: 100 } });
   */
  sendBatch(messages: readonly Message[], context: SendBatchContext): Promise<SendOutcome[]>;
  /** Waits for the confirms still due (each bounded by `timeoutMs`), then closes the connection. */
  close(): Promise<void>;
}

interface Session {
  readonly model: ChannelModel;
  readonly channel: ConfirmChannel;
  closed: boolean;
  closeError: Error | undefined;
  readonly pending: Set<(error: TransportError) => void>;
  /** Message ids the broker returned as unroutable whose confirm has not arrived yet. */
  readonly returned: Map<string, number>;
}

/**
 * A transport that publishes each message to a RabbitMQ exchange, persistent
 * and `mandatory`, on a confirm channel: `send` resolves only once the broker
 * has confirmed it (for a durable queue: written to disk, or to a quorum's
 * majority). A nack, an unroutable return, a channel or connection closed
 * before the confirm, or no confirm within `timeoutMs` reject with a
 * retryable `TransportError`. The connection is opened on first use and
 * again after it is lost.
 *
 * @example
 * const transport = createAmqpTransport({
 *   url: 'amqp://guest:guest@127.0.0.1:5672',
 *   exchange: 'orders',
 *   setup: async (ch) => { await ch.assertExchange('orders', 'topic', { durable: true }) },
 * });
 * outbox.configure('order.placed', { transport });
 */
export function createAmqpTransport(options: AmqpTransportOptions): AmqpTransport {
  if (!options || typeof options !== 'object') throw new MessageboxError('invalid_options', 'createAmqpTransport needs options with `url` and `exchange`');
  if (typeof options.url !== 'string' && (options.url === null || typeof options.url !== 'object')) {
    throw new MessageboxError('invalid_options', 'createAmqpTransport: `url` must be an amqp:// URL or amqplib connect options');
  }
  if (typeof options.exchange !== 'string') throw new MessageboxError('invalid_options', 'createAmqpTransport: `exchange` must be a string ("" is the default exchange)');
  const timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_AMQP_TIMEOUT_MS, 'timeoutMs');
  const maxConcurrency = positiveInteger(options.maxConcurrency ?? DEFAULT_AMQP_MAX_CONCURRENCY, 'maxConcurrency');
  const exchange = options.exchange;
  const routingKeyOf = options.routingKey ?? ((message: Message) => message.type);
  const mandatory = options.mandatory ?? true;
  const name = options.name ?? `amqp:${exchange || '(default exchange)'}`;
  const connectionName = options.connectionName ?? `messagebox transport ${name}`;
  const where = describeAmqpUrl(options.url);

  let session: Session | undefined;
  let connecting: Promise<Session> | undefined;
  let closing = false;
  const inFlight = new Set<Promise<unknown>>();

  async function open(): Promise<Session> {
    let model: ChannelModel;
    try {
      model = await openAmqpConnection(options.url, connectionName, timeoutMs);
    } catch (error) {
      throw new TransportError(`[messagebox] ${name}: could not connect to RabbitMQ at ${where}: ${describeError(error, 300)}`, { cause: error });
    }
    try {
      const channel = await model.createConfirmChannel();
      const s: Session = { model, channel, closed: false, closeError: undefined, pending: new Set(), returned: new Map() };
      model.on('error', (error: Error) => (s.closeError ??= error));
      model.on('close', (error?: Error) => lost(s, error));
      channel.on('error', (error: Error) => (s.closeError ??= error));
      channel.on('close', () => lost(s, undefined));
      channel.on('return', (returned: AmqpMessage) => {
        const id = returned.properties.messageId;
        if (typeof id === 'string') s.returned.set(id, (s.returned.get(id) ?? 0) + 1);
      });
      if (options.setup) await options.setup(channel);
      if (s.closed) throw s.closeError ?? new Error('channel closed during setup');
      return s;
    } catch (error) {
      await closeModel(model, timeoutMs);
      throw new TransportError(`[messagebox] ${name}: could not open a confirm channel to ${where}: ${describeError(error, 300)}`, { cause: error });
    }
  }

  function lost(s: Session, error: Error | undefined): void {
    if (error) s.closeError ??= error;
    if (s.closed) return;
    s.closed = true;
    if (session === s) session = undefined;
    const reason = describeError(s.closeError ?? 'closed', 300);
    const status = amqpCode(s.closeError);
    for (const fail of [...s.pending]) {
      fail(new TransportError(`[messagebox] ${name}: the channel to ${where} closed before the broker confirmed: ${reason}`, { status, cause: s.closeError }));
    }
    void closeModel(s.model, timeoutMs);
  }

  async function currentSession(): Promise<Session> {
    if (session && !session.closed) return session;
    connecting ??= open().then(
      (s) => {
        connecting = undefined;
        if (closing) {
          void closeModel(s.model, timeoutMs);
          throw closedError();
        }
        session = s;
        return s;
      },
      (error: unknown) => {
        connecting = undefined;
        throw error;
      },
    );
    return connecting;
  }

  function publish(s: Session, message: Message, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: TransportError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        s.pending.delete(finish);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => finish(new TransportError(`[messagebox] ${name}: aborted while waiting for the broker to confirm message ${message.id}`));
      const timer = setTimeout(
        () => finish(new TransportError(`[messagebox] ${name}: no confirm from ${where} for message ${message.id} within ${timeoutMs} ms`, { timedOut: true })),
        timeoutMs,
      );
      s.pending.add(finish);
      signal?.addEventListener('abort', onAbort, { once: true });
      let routingKey: string;
      try {
        routingKey = routingKeyOf(message);
        if (typeof routingKey !== 'string') throw new TypeError(`the routingKey option returned ${quoteInput(routingKey)}, not a string`);
      } catch (error) {
        finish(new TransportError(`[messagebox] ${name}: no routing key for message ${message.id}: ${describeError(error, 300)}`, { retryable: false, notAttempted: false, cause: error }));
        return;
      }
      try {
        s.channel.publish(exchange, routingKey, encodeAmqpBody(message), encodeAmqpProperties(message, { mandatory }), (error: unknown) => {
          if (error && (error as { message?: unknown }).message === 'message nacked') {
            finish(new TransportError(`[messagebox] ${name}: RabbitMQ refused message ${message.id} (nack) on exchange ${quoteInput(exchange)}`, { cause: error }));
          } else if (error) {
            setImmediate(() =>
              finish(
                new TransportError(
                  `[messagebox] ${name}: the channel to ${where} closed before the broker confirmed message ${message.id}: ${describeError(s.closeError ?? error, 300)}`,
                  { status: amqpCode(s.closeError), cause: s.closeError ?? error },
                ),
              ),
            );
          } else if (takeReturned(s, message.id)) {
            finish(
              new TransportError(
                `[messagebox] ${name}: RabbitMQ could not route message ${message.id}: exchange ${quoteInput(exchange)} has no queue bound for routing key ${quoteInput(routingKey)} (returned, ${AMQP_NO_ROUTE} NO_ROUTE)`,
                { status: AMQP_NO_ROUTE },
              ),
            );
          } else {
            finish();
          }
        });
      } catch (error) {
        const permanent = error instanceof RangeError;
        finish(
          new TransportError(`[messagebox] ${name}: could not publish message ${message.id}: ${describeError(error, 300)}`, {
            retryable: !permanent,
            notAttempted: !permanent && s.closed,
            cause: error,
          }),
        );
      }
    });
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    const untrack = () => inFlight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }

  function closedError(): TransportError {
    return new TransportError(`[messagebox] ${name} is closed`, { notAttempted: true });
  }

  async function sendOne(message: Message, context: SendContext): Promise<void> {
    if (closing) throw closedError();
    if (context?.signal?.aborted) throw new TransportError(`[messagebox] ${name}: aborted before publishing`, { notAttempted: true });
    const s = await currentSession();
    await publish(s, message, context?.signal);
  }

  return {
    name,
    maxConcurrency,
    send(message, context) {
      return track(sendOne(message, context));
    },
    sendBatch(messages, context) {
      return track(
        (async (): Promise<SendOutcome[]> => {
          let s: Session;
          try {
            if (closing) throw closedError();
            s = await currentSession();
          } catch (error) {
            const failure = asTransportError(error);
            return messages.map(() => ({ delivered: false as const, error: failure }));
          }
          const settled = await Promise.allSettled(messages.map((m) => publish(s, m, context?.signal)));
          return settled.map((r) => (r.status === 'fulfilled' ? { delivered: true as const } : { delivered: false as const, error: asTransportError(r.reason) }));
        })(),
      );
    },
    async close() {
      closing = true;
      await Promise.allSettled([...inFlight]);
      await connecting?.catch(() => {});
      const s = session;
      session = undefined;
      if (s && !s.closed) {
        s.closed = true;
        await closeModel(s.model, timeoutMs);
      }
    },
  };
}

function takeReturned(s: Session, id: string): boolean {
  const count = s.returned.get(id);
  if (!count) return false;
  if (count === 1) s.returned.delete(id);
  else s.returned.set(id, count - 1);
  return true;
}

function amqpCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function asTransportError(error: unknown): TransportError {
  return isTransportError(error) ? error : new TransportError(`[messagebox] ${describeError(error, 300)}`, { cause: error });
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new MessageboxError('invalid_options', `createAmqpTransport: ${field} must be a positive integer, got ${quoteInput(value)}`);
  return value;
}
