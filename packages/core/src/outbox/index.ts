export { createOutbox, type Outbox, type OutboxOptions, type OutboxRoute } from './create-outbox.js';
export { DEFAULT_ROUTE_BATCH_MAX_BYTES, DEFAULT_ROUTE_BATCH_MAX_MESSAGES, type RouteBatchOptions } from './batch-dispatch.js';
export type { OutboxEventMap } from './outbox-events.js';
export type { DeliveryReport } from './outbox-report.js';
export {
  CircuitBreaker,
  DEFAULT_BREAKER_OPTIONS,
  resolveBreakerOptions,
  type AttemptVerdict,
  type BreakerState,
  type BreakerTicket,
  type BreakerTransition,
  type CircuitBreakerOptions,
  type ResolvedBreakerOptions,
} from './circuit-breaker.js';
export { DEFAULT_MAX_PAUSE_MS, DEFAULT_BUSY_PAUSE_MS, MIN_BUSY_PAUSE_MS } from './destination-pause.js';
export type { BreakerEvent, DestinationState, FlowControlOptions, PauseEvent } from './flow-control.js';
