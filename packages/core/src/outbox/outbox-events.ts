import type { Message } from '../message.js';
import type { BreakerEvent, PauseEvent } from './flow-control.js';

/** Lifecycle events of the outbox; subscribe with `outbox.events.on(name, listener)`. */
export interface OutboxEventMap {
  /** Written inside a transaction (emitted at commit when known, else at write). */
  created: { message: Message };
  /** Delivered: the transport reported success and the row is marked sent. */
  sent: { message: Message; attempts: number; durationMs: number };
  /** An attempt failed and will be retried at `retryAt`. */
  failed: { message: Message; attempts: number; error: string; delayMs: number; retryAt: Date };
  /** Given up: kept as dead with its last error. */
  dead: { message: Message; attempts: number; error: string };
  /** A destination's circuit breaker changed state: `open` (no claims for it), `half-open` (one probe), `closed` (flowing again). */
  breaker: BreakerEvent;
  /** A busy answer paused every message to a destination for `pauseMs`; the refused attempt was not counted. */
  paused: PauseEvent;
}
