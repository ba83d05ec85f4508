import type { Message } from '../message.js';
import type { ShedEvent } from '../http/load-shedding.js';

/** Lifecycle events of the inbox; subscribe with `inbox.events.on(name, listener)`. */
export interface InboxEventMap {
  /** Stored for the first time. */
  received: { message: Message };
  /** Seen before: acknowledged, nothing stored. */
  duplicate: { message: Message };
  /** The handler succeeded and the message is marked processed. */
  handled: { message: Message; attempts: number; durationMs: number };
  /** The handler failed and will run again at `retryAt`. */
  handlerFailed: { message: Message; attempts: number; error: string; delayMs: number; retryAt: Date };
  /** Given up: kept as dead with its last error. */
  dead: { message: Message; attempts: number; error: string };
  /** The inbox HTTP endpoint refused a request to shed load (`shedLoad`): answered 503/429 with `Retry-After`, nothing stored. */
  shed: ShedEvent;
}
