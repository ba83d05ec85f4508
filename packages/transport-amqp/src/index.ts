export {
  AMQP_NO_ROUTE,
  createAmqpTransport,
  DEFAULT_AMQP_MAX_CONCURRENCY,
  DEFAULT_AMQP_TIMEOUT_MS,
  type AmqpSendBatchContext,
  type AmqpSendOutcome,
  type AmqpTransport,
  type AmqpTransportOptions,
} from './amqp-transport.js';
export {
  createAmqpInboxConsumer,
  DEFAULT_AMQP_PREFETCH,
  DEFAULT_REQUEUE_DELAY_MS,
  UNSTORABLE_CODES,
  type AmqpConsumerInbox,
  type AmqpInboxConsumer,
  type AmqpInboxConsumerOptions,
} from './amqp-inbox-consumer.js';
export { createAmqpTopology, type AmqpTopology, type AmqpTopologyOptions } from './amqp-topology.js';
export type { AmqpUrl } from './connection.js';
export {
  CREATED_AT_HEADER,
  DEAD_LETTER_CODE_HEADER,
  DEAD_LETTER_ID_HEADER,
  DEAD_LETTER_QUEUE_HEADER,
  DEAD_LETTER_REASON_HEADER,
  decodeAmqpMessage,
  encodeAmqpBody,
  encodeAmqpProperties,
  KEY_HEADER,
} from './wire-format.js';
