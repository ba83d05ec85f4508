// The broker-specific part of the example, for RabbitMQ and NATS JetStream:
// the topology (declared once by main.ts, deleted at the end), the order
// service's transport, and the shipping service's inbox consumer.
import type { Inbox, Transport } from '@messagebox/core';
import { createAmqpInboxConsumer, createAmqpTransport } from '@messagebox/transport-amqp';
import { createNatsInboxConsumer, createNatsTransport } from '@messagebox/transport-nats';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { connect as amqpConnect } from 'amqplib';

export type BrokerName = 'amqp' | 'nats';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Names of this run's exchange and queue, or stream, subject prefix and durable consumer (unique per run, so runs never share them). */
export interface Topology {
  broker: BrokerName;
  /** AMQP: the topic exchange; NATS: the stream. */
  destination: string;
  /** AMQP: the queue both consumers share; NATS: the durable consumer they share. */
  shared: string;
}

export function topologyFor(broker: BrokerName, runId: string): Topology {
  return broker === 'amqp'
    ? { broker, destination: `example.orders.${runId}`, shared: `example.shipping.${runId}` }
    : { broker, destination: `EXAMPLE_ORDERS_${runId}`, shared: 'shipping' };
}

const subjectOf = (t: Topology, type: string) => `${t.destination.toLowerCase()}.${type}`;

/** Declares the exchange, queue and binding (AMQP) or the stream (NATS). Rejects with a clear message when the broker cannot be reached. */
export async function declareTopology(t: Topology): Promise<void> {
  if (t.broker === 'amqp') {
    const model = await amqpConnect(AMQP_URL, { timeout: 5_000 }).catch((error: Error) => unreachable('RabbitMQ', AMQP_URL, error));
    const channel = await model.createChannel();
    await channel.assertExchange(t.destination, 'topic', { durable: true });
    await channel.assertQueue(t.shared, { durable: true });
    await channel.bindQueue(t.shared, t.destination, 'order.#');
    await model.close();
  } else {
    const nc = await natsConnect({ servers: NATS_URL, timeout: 5_000 }).catch((error: Error) => unreachable('NATS JetStream', NATS_URL, error));
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: t.destination, subjects: [`${t.destination.toLowerCase()}.>`] });
    await nc.close();
  }
}

/** Deletes what {@link declareTopology} declared. */
export async function deleteTopology(t: Topology): Promise<void> {
  if (t.broker === 'amqp') {
    const model = await amqpConnect(AMQP_URL, { timeout: 5_000 });
    const channel = await model.createChannel();
    await channel.deleteQueue(t.shared);
    await channel.deleteExchange(t.destination);
    await model.close();
  } else {
    const nc = await natsConnect({ servers: NATS_URL, timeout: 5_000 });
    await (await jetstreamManager(nc)).streams.delete(t.destination);
    await nc.close();
  }
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
    ? createAmqpInboxConsumer({ url: AMQP_URL, queue: t.shared, inbox, prefetch: 32 })
    : createNatsInboxConsumer({ servers: NATS_URL, stream: t.destination, durable: t.shared, inbox, concurrency: 32 });
}

function unreachable(what: string, url: string, error: Error): never {
  throw new Error(`Cannot reach ${what} at ${url}: ${error.message}. Start it, or point ${what === 'RabbitMQ' ? 'AMQP_URL' : 'NATS_URL'} at one.`);
}
