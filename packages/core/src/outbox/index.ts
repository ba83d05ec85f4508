export { createOutbox, type Outbox, type OutboxOptions, type OutboxRoute } from './create-outbox.js';
export type { OutboxEventMap } from './outbox-events.js';
export type { DeliveryReport } from './outbox-report.js';
