// Outbox → broker → inbox variants: the broker of a drain (RabbitMQ or NATS
// JetStream), its topology for one run (declared by the benchmark with the
// transport packages' createAmqpTopology / createNatsTopology, deleted
// afterwards), the sender's transport and the receiver's consumer. The
// children learn the broker and the names from MB_BROKER / MB_BROKER_TOPOLOGY.
// The clients are imported only when a drain uses them, so the HTTP
// variants' processes load nothing more than before.
import { randomBytes } from 'node:crypto';
import type { Message, ReceiveResult, Transport } from '@messagebox/core';

export const BROKERS = ['amqp', 'nats'] as const;
export type Broker = (typeof BROKERS)[number];

export const AMQP_URL = process.env.BENCH_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env.BENCH_NATS_URL || 'nats://127.0.0.1:4222';
/** Unacknowledged messages the receiver's consumer holds at most (AMQP prefetch, NATS receives in flight): enough for group commit to gather. */
export const CONSUMER_IN_FLIGHT = 256;

/** One run's names: AMQP exchange + queue, or NATS stream + durable (unique, so parallel runs never share them). */
export interface BrokerTopology {
  broker: Broker;
  exchangeOrStream: string;
  queueOrDurable: string;
}

export function isBroker(name: string | undefined): name is Broker {
  return (BROKERS as readonly string[]).includes(name ?? '');
}

/** The topology of `t`, declared and deleted by the transport packages (no dead-letter exchange: nothing here is unstorable). */
async function topologyOf(t: BrokerTopology) {
  if (t.broker === 'amqp') return (await import('@messagebox/transport-amqp')).createAmqpTopology({ url: AMQP_URL, exchange: t.exchangeOrStream, queue: t.queueOrDurable, deadLetterExchange: false, timeoutMs: 5_000 });
  return (await import('@messagebox/transport-nats')).createNatsTopology({
    servers: NATS_URL,
    connectOptions: { timeout: 5_000, maxReconnectAttempts: 0 },
    stream: t.exchangeOrStream,
    durable: t.queueOrDurable,
    maxAckPending: CONSUMER_IN_FLIGHT * 4,
  });
}

async function onTopology(t: BrokerTopology, fn: (topology: { declare(): Promise<void>; delete(): Promise<void> }) => Promise<void>): Promise<void> {
  const topology = await topologyOf(t);
  try {
    await fn(topology);
  } finally {
    if ('close' in topology) await topology.close();
  }
}

/** Declares a fresh topology for one drain; resolves with it. Rejects with a clear message when the broker cannot be reached. */
export async function declareBrokerTopology(broker: Broker): Promise<BrokerTopology> {
  const id = randomBytes(4).toString('hex');
  const t: BrokerTopology = broker === 'amqp' ? { broker, exchangeOrStream: `mb_bench.${id}`, queueOrDurable: `mb_bench.${id}.inbox` } : { broker, exchangeOrStream: `MB_BENCH_${id}`, queueOrDurable: 'inbox' };
  try {
    await onTopology(t, (topology) => topology.declare());
    return t;
  } catch (error) {
    throw new Error(`[benchmark] cannot set up ${broker === 'amqp' ? `RabbitMQ at ${AMQP_URL}` : `NATS JetStream at ${NATS_URL}`} (BENCH_AMQP_URL / BENCH_NATS_URL; --brokers=none skips them): ${(error as Error).message}`);
  }
}

export function deleteBrokerTopology(t: BrokerTopology): Promise<void> {
  return onTopology(t, (topology) => topology.delete());
}

/** What the children need in their environment. */
export const brokerEnv = (t: BrokerTopology): Record<string, string> => ({ MB_BROKER: t.broker, MB_BROKER_TOPOLOGY: JSON.stringify(t) });

const topologyFromEnv = (): BrokerTopology | undefined => (isBroker(process.env.MB_BROKER) ? (JSON.parse(process.env.MB_BROKER_TOPOLOGY!) as BrokerTopology) : undefined);

/** The sender's transport when this drain goes through a broker; undefined for HTTP. */
export async function brokerTransportFromEnv(): Promise<Transport | undefined> {
  const t = topologyFromEnv();
  if (!t) return undefined;
  return t.broker === 'amqp'
    ? (await import('@messagebox/transport-amqp')).createAmqpTransport({ url: AMQP_URL, exchange: t.exchangeOrStream })
    : (await import('@messagebox/transport-nats')).createNatsTransport({ servers: NATS_URL, subject: (m) => `${t.exchangeOrStream}.${m.type}`, stream: t.exchangeOrStream });
}

/** Starts the receiver's broker consumer into `inbox` when this drain goes through a broker; resolves with its stop, or undefined for HTTP. */
export async function startBrokerConsumerFromEnv(inbox: { receive(message: Message): Promise<ReceiveResult> }): Promise<(() => Promise<unknown>) | undefined> {
  const t = topologyFromEnv();
  if (!t) return undefined;
  const consumer =
    t.broker === 'amqp'
      ? (await import('@messagebox/transport-amqp')).createAmqpInboxConsumer({ url: AMQP_URL, queue: t.queueOrDurable, inbox, prefetch: CONSUMER_IN_FLIGHT })
      : (await import('@messagebox/transport-nats')).createNatsInboxConsumer({
          servers: NATS_URL,
          stream: t.exchangeOrStream,
          durable: t.queueOrDurable,
          inbox,
          concurrency: CONSUMER_IN_FLIGHT,
          maxAckPending: CONSUMER_IN_FLIGHT * 4,
        });
  await consumer.start();
  return () => consumer.stop();
}
