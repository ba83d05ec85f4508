import { BROKERS, type Broker } from './broker-routes.js';
import type { Dialect } from './databases.js';
import type { DrainVariant } from './variants.js';

/**
 * The outbox → broker → inbox drains beside the HTTP ones: Postgres on both
 * sides (the sender's outbox worker publishes to RabbitMQ or JetStream, the
 * receiver's consumer feeds its inbox), for each broker and delivery. Named
 * `<dialect> <broker> <delivery>, N senders`, so the report shows them under
 * the HTTP ceiling of the same sender count.
 */
export function brokerDrains(dialect: Dialect, senders: number, deliveries: readonly string[], brokers: readonly string[]): DrainVariant[] {
  if (dialect !== 'postgres') return [];
  return brokers.flatMap((broker) =>
    deliveries.map((delivery) => ({ kind: 'drain' as const, name: `${dialect} ${broker} ${delivery}, ${senders} sender${senders > 1 ? 's' : ''}`, dialect, senders, delivery, broker: broker as Broker })),
  );
}

/** Validates `--brokers`: `none`, or a list of known brokers. */
export function parseBrokers(list: readonly string[]): Broker[] {
  if (list.length === 1 && list[0] === 'none') return [];
  for (const b of list) if (!(BROKERS as readonly string[]).includes(b)) throw new Error(`[benchmark] --brokers: unknown broker "${b}" (${BROKERS.join(', ')}, or none)`);
  return list as Broker[];
}
