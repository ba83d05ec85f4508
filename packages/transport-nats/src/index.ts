export {
  createNatsTransport,
  DEFAULT_NATS_MAX_IN_FLIGHT,
  DEFAULT_NATS_TIMEOUT_MS,
  isLiteralSubject,
  type NatsSendBatchContext,
  type NatsSendOutcome,
  type NatsTransport,
  type NatsTransportOptions,
} from './nats-transport.js';
export {
  createNatsInboxConsumer,
  UNSTORABLE_CODES,
  type NatsInboxConsumer,
  type NatsInboxConsumerEventMap,
  type NatsInboxConsumerOptions,
} from './nats-inbox-consumer.js';
export type { NatsConnectionOptions } from './nats-connection.js';
export { createNatsTopology, type NatsTopology, type NatsTopologyOptions } from './nats-topology.js';
export { decodeNatsMessage, encodeNatsMessage, NatsHeaderNames, natsMsgId, type NatsWireMessage } from './nats-wire-format.js';
