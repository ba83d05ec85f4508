import type { Message } from '../message.js';

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
}
