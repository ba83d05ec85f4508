// The broker-specific part of the example, for RabbitMQ and NATS JetStream:
// the topology (declared once by main.ts, deleted at the end), the order
// service's transport, and the shipping service's inbox consumer.
import type { Inbox, Transport } from '@messagebox/core';
import { createAmqpInboxConsumer, createAmqpTopology, createAmqpTransport } from '@messagebox/transport-amqp';
import { createNatsInboxConsumer, createNatsTopology, createNatsTransport } from '@messagebox/transport-nats';

export type BrokerName = 'amqp' | 'nats';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Names of this run's exchange and queue, or stream, subject prefix and durable consumer (unique per run, so runs never share them). */
export interface Topology {
  broker: BrokerName;
  /** AMQP: the topic exchange; NATS: the stream. */
  destination: string;
  /** AMQP: the queue both consumers share (its dead letters go to `<shared>.dead`); NATS: the durable consumer they share. */
  shared: string;
}

export function topologyFor(broker: BrokerName, runId: string): Topology {
  return broker === 'amqp'
    ? { broker, destination: `example.orders.${runId}`, shared: `example.shipping.${runId}` }
    : { broker, destination: `EXAMPLE_ORDERS_${runId}`, shared: 'shipping' };
}

const subjectOf = (t: Topology, type: string) => `${t.destination.toLowerCase()}.${type}`;

/** This run's RabbitMQ topology: the exchange, the queue bound to `order.#`, a dead-letter exchange and its queue. */
const amqpTopology = (t: Topology) => createAmqpTopology({ url: AMQP_URL, exchange: t.destination, queue: t.shared, bindingKeys: ['order.#'], timeoutMs: 5_000 });

/** This run's JetStream topology: the stream and the durable consumer both shipping processes share. */
const natsTopology = (t: Topology) =>
  createNatsTopology({ servers: NATS_URL, connectOptions: { timeout: 5_000, maxReconnectAttempts: 0 }, stream: t.destination, subjects: [`${t.destination.toLowerCase()}.>`], durable: t.shared });

/** Runs `fn` on this run's topology (declared by the transport packages), closing what it opened. */
async function onTopology(t: Topology, fn: (topology: { declare(): Promise<void>; delete(): Promise<void> }) => Promise<void>): Promise<void> {
  if (t.broker === 'amqp') return fn(amqpTopology(t));
  const topology = natsTopology(t);
  try {
    await fn(topology);
  } finally {
    await topology.close();
  }
}

/** Declares the topology. Rejects with a clear message when the broker cannot be reached. */
export async function declareTopology(t: Topology): Promise<void> {
  await onTopology(t, (topology) =>
    topology.declare().catch((error: Error) => unreachable(t.broker === 'amqp' ? 'RabbitMQ' : 'NATS JetStream', t.broker === 'amqp' ? AMQP_URL : NATS_URL, (error.cause as Error | undefined) ?? error)),
  );
}

/** Deletes what {@link declareTopology} declared. */
export function deleteTopology(t: Topology): Promise<void> {
  return onTopology(t, (topology) => topology.delete());
}

/** The order service's transport: publish confirms (AMQP) or PubAcks (NATS) before a message counts as sent. */
export function orderTransport(t: Topology): Transport {
  return t.broker === 'amqp'
    ? createAmqpTransport({ url: AMQP_URL, exchange: t.destination })
    : createNatsTransport({ servers: NATS_URL, subject: (m) => subjectOf(t, m.type), stream: t.destination });
}

/** The shipping service's consumer: acks a message only once the inbox stored it. */
export function shippingConsumer(t: Topology, inbox: Pick<Inbox<unknown>, 'receive'>): { start(): Promise<void>; stop(): Promise<unknown> } {
  return t.broker === 'amqp'
    ? createAmqpInboxConsumer({ url: AMQP_URL, queue: t.shared, deadLetterExchange: amqpTopology(t).deadLetterExchange, inbox, prefetch: 32 })
    : createNatsInboxConsumer({ servers: NATS_URL, stream: t.destination, durable: t.shared, inbox, concurrency: 32 });
}

function unreachable(what: string, url: string, error: Error): never {
  throw new Error(`Cannot reach ${what} at ${url}: ${error.message}. Start it, or point ${what === 'RabbitMQ' ? 'AMQP_URL' : 'NATS_URL'} at one.`);
}
