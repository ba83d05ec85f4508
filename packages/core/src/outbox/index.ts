export { createOutbox, type Outbox, type OutboxOptions, type OutboxRoute } from './create-outbox.js';
export { DEFAULT_ROUTE_BATCH_MAX_BYTES, DEFAULT_ROUTE_BATCH_MAX_MESSAGES, type RouteBatchOptions } from './batch-dispatch.js';
export type { OutboxEventMap } from './outbox-events.js';
export type { DeliveryReport } from './outbox-report.js';
