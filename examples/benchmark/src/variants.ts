import type { BatchHandlerOptions, HandlerOptions, OutboxRoute } from '@messagebox/core';
import type { Broker } from './broker-routes.js';
import { brokerDrains } from './broker-variants.js';
import { keyedDrains } from './keyed-variants.js';
import type { Dialect } from './databases.js';

/**
 * How messages travel from the outbox to the handler. Each entry is what a
 * sender adds to its route and how the receiver registers its handler:
 * `inbox.on()` per message, or `inbox.onBatch()` with `batch` options.
 */
export interface Delivery {
  /** Extra route options for `outbox.configure(type, { transport, ...route })`. */
  route: Partial<Omit<OutboxRoute, 'transport'>>;
  /** Extra options for `inbox.on(type, handler, handler)`. */
  handler: HandlerOptions;
  /** When set, the receiver registers a batch handler (`inbox.onBatch`) with these options. */
  batchHandler?: BatchHandlerOptions;
}

export const DELIVERY_CONFIGS: Record<string, Delivery> = {
  'per-message': { route: {}, handler: {} },
  /** One signed HTTP request per 100 messages, handled by a batch handler of up to 100 messages. */
  batched: { route: { batch: { maxMessages: 100 } }, handler: {}, batchHandler: { maxMessages: 100 } },
};

/** Deliveries the default run measures, in order. */
export const DELIVERIES: readonly string[] = ['per-message', 'batched'];

/** One end-to-end configuration of the drain benchmark. */
export interface DrainVariant {
  kind: 'drain';
  name: string;
  dialect: Dialect;
  senders: number;
  delivery: string;
  /** Through a broker instead of HTTP (broker-routes.ts). */
  broker?: Broker;
  /** Messages carry ordering keys, `k<n % keys>` (keyed-variants.ts). */
  keys?: number;
}

/** The ceiling: an HTTP server (Hono + @hono/node-server) doing one INSERT per POST in its own transaction. */
export interface CeilingVariant {
  kind: 'ceiling';
  name: string;
  dialect: Dialect;
  /** Client processes, each with the transport's undici settings and the outbox's in-flight bound. */
  clients: number;
}

export type Variant = DrainVariant | CeilingVariant;

/** The table of configurations: every dialect × sender count × delivery, each beside its ceiling. */
export function variantTable(options: { dialects: readonly Dialect[]; senders: readonly number[]; deliveries: readonly string[]; brokers?: readonly string[]; keys?: readonly number[] }): Variant[] {
  const variants: Variant[] = [];
  for (const dialect of options.dialects) {
    for (const senders of options.senders) {
      variants.push({ kind: 'ceiling', name: `${dialect} ceiling, ${senders} client${senders > 1 ? 's' : ''}`, dialect, clients: senders });
      for (const delivery of options.deliveries) {
        if (!DELIVERY_CONFIGS[delivery]) throw new Error(`[benchmark] unknown delivery "${delivery}"; known: ${Object.keys(DELIVERY_CONFIGS).join(', ')}`);
        variants.push({ kind: 'drain', name: `${dialect} ${delivery}, ${senders} sender${senders > 1 ? 's' : ''}`, dialect, senders, delivery });
      }
      variants.push(...brokerDrains(dialect, senders, options.deliveries, options.brokers ?? []));
      variants.push(...keyedDrains(dialect, senders, options.senders, options.keys ?? []));
    }
  }
  return variants;
}

/** The ceiling a drain variant is compared with. */
export const ceilingNameOf = (v: DrainVariant) => `${v.dialect} ceiling, ${v.senders} client${v.senders > 1 ? 's' : ''}`;
