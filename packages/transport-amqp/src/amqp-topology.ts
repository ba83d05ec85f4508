import { describeError, MessageboxError } from '@messagebox/core';
import type { Channel } from 'amqplib';
import { closeModel, describeAmqpUrl, openAmqpConnection, type AmqpUrl } from './connection.js';

/**
 * Options of {@link createAmqpTopology}.
 *
 * @example
 * createAmqpTopology({ url: 'amqp://guest:guest@127.0.0.1:5672', exchange: 'orders', queue: 'shipping', bindingKeys: ['order.#'] })
 */
export interface AmqpTopologyOptions {
  /** `amqp://user:password@host:5672/vhost` or amqplib's connect options (used by `declare()` and `delete()`). */
  url: AmqpUrl;
  /** The durable topic exchange the transport publishes to (`createAmqpTransport({ exchange })`). */
  exchange: string;
  /** The durable queue the inbox consumer reads (`createAmqpInboxConsumer({ queue })`), bound to `exchange`. */
  queue: string;
  /** Binding keys of `queue` on `exchange` (routing keys are message types by default). Default `['#']`: every message. */
  bindingKeys?: readonly string[];
  /**
   * A durable fanout exchange for what can never be stored: the queue's
   * `x-dead-letter-exchange` (messages it rejects without requeue) and the
   * consumer's `deadLetterExchange` (messages with their reason in headers).
   * Default `<queue>.dead`; `false`: none.
   */
  deadLetterExchange?: string | false;
  /** The durable queue bound to the dead-letter exchange, where dead letters wait for an operator. Default `<queue>.dead`. */
  deadLetterQueue?: string;
  /** Connect timeout of `declare()` and `delete()`; default 10 000 ms. */
  timeoutMs?: number;
}

/**
 * The names of one RabbitMQ topology for messagebox, and how to declare and
 * delete it. Pass `exchange` to the transport, `queue` and
 * `deadLetterExchange` to the inbox consumer.
 */
export interface AmqpTopology {
  readonly exchange: string;
  readonly queue: string;
  readonly bindingKeys: readonly string[];
  /** Undefined when declared without one (`deadLetterExchange: false`). */
  readonly deadLetterExchange: string | undefined;
  readonly deadLetterQueue: string | undefined;
  /**
   * Declares every part on `channel` (idempotent; a queue declared earlier
   * with other arguments makes the broker close the channel with
   * PRECONDITION_FAILED). Fits the `setup` option of the transport and the
   * consumer, which run it after every (re)connect.
   */
  assert(channel: Channel): Promise<void>;
  /** Opens a connection, {@link assert}s, closes it. Rejects with `transport_failed` when the broker cannot be reached or refuses. */
  declare(): Promise<void>;
  /** Deletes both queues (with the messages in them) and both exchanges; what does not exist is skipped. */
  delete(): Promise<void>;
}

/**
 * Declares what messagebox needs on RabbitMQ, once, in one place: a durable
 * topic exchange for the senders, a durable queue bound to it for the
 * receivers, and a dead-letter exchange with its queue (the queue's
 * `x-dead-letter-exchange`, and where the consumer puts messages that can
 * never be stored).
 *
 * @example
 * const topology = createAmqpTopology({ url, exchange: 'orders', queue: 'shipping' });
 * await topology.declare(); // at deploy time, or pass `setup: topology.assert` below
 * const transport = createAmqpTransport({ url, exchange: topology.exchange });
 * const consumer = createAmqpInboxConsumer({ url, queue: topology.queue, deadLetterExchange: topology.deadLetterExchange, inbox });
 */
export function createAmqpTopology(options: AmqpTopologyOptions): AmqpTopology {
  if (!options || typeof options !== 'object') throw new MessageboxError('invalid_options', 'createAmqpTopology needs options with `url`, `exchange` and `queue`');
  for (const field of ['exchange', 'queue'] as const) {
    if (typeof options[field] !== 'string' || options[field] === '') throw new MessageboxError('invalid_options', `createAmqpTopology: \`${field}\` must be a non-empty string`);
  }
  const { url, exchange, queue } = options;
  const bindingKeys = options.bindingKeys ?? ['#'];
  if (!Array.isArray(bindingKeys) || bindingKeys.length === 0 || !bindingKeys.every((key) => typeof key === 'string')) {
    throw new MessageboxError('invalid_options', 'createAmqpTopology: `bindingKeys` must be a non-empty list of strings');
  }
  const deadLetterExchange = options.deadLetterExchange === false ? undefined : (options.deadLetterExchange ?? `${queue}.dead`);
  const deadLetterQueue = deadLetterExchange === undefined ? undefined : (options.deadLetterQueue ?? `${queue}.dead`);
  if (deadLetterExchange === '' || deadLetterQueue === '') throw new MessageboxError('invalid_options', 'createAmqpTopology: dead-letter names must be non-empty strings');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function withChannel(what: string, fn: (channel: Channel) => Promise<void>): Promise<void> {
    let model;
    try {
      model = await openAmqpConnection(url, `messagebox topology ${queue}`, timeoutMs);
    } catch (error) {
      throw new MessageboxError('transport_failed', `cannot reach RabbitMQ at ${describeAmqpUrl(url)} to ${what} the topology of queue "${queue}": ${describeError(error)}`, { cause: error });
    }
    try {
      await fn(await model.createChannel());
    } catch (error) {
      throw new MessageboxError('transport_failed', `RabbitMQ refused to ${what} the topology of queue "${queue}": ${describeError(error)}`, { cause: error });
    } finally {
      await closeModel(model, timeoutMs);
    }
  }

  const topology: AmqpTopology = {
    exchange,
    queue,
    bindingKeys,
    deadLetterExchange,
    deadLetterQueue,

    async assert(channel) {
      await channel.assertExchange(exchange, 'topic', { durable: true });
      if (deadLetterExchange !== undefined) {
        await channel.assertExchange(deadLetterExchange, 'fanout', { durable: true });
        await channel.assertQueue(deadLetterQueue!, { durable: true });
        await channel.bindQueue(deadLetterQueue!, deadLetterExchange, '');
      }
      await channel.assertQueue(queue, { durable: true, ...(deadLetterExchange === undefined ? {} : { deadLetterExchange }) });
      for (const key of bindingKeys) await channel.bindQueue(queue, exchange, key);
    },

    declare: () => withChannel('declare', (channel) => topology.assert(channel)),

    delete: () =>
      withChannel('delete', async (channel) => {
        await channel.deleteQueue(queue);
        if (deadLetterQueue !== undefined) await channel.deleteQueue(deadLetterQueue);
        await channel.deleteExchange(exchange);
        if (deadLetterExchange !== undefined) await channel.deleteExchange(deadLetterExchange);
      }),
  };
  return topology;
}
