import type { Message } from './message.js';

/**
 * Hooks for tracing and metrics, given to `createOutbox` and `createInbox`.
 * `@messagebox/opentelemetry` implements them; every member is optional and
 * costs nothing when absent.
 *
 * @example
 * const instrumentation: Instrumentation = {
 *   headers: () => ({ traceparent: currentTraceparent() }),
 *   send: (message, attempt, run) => tracer.startActiveSpan('send', () => run()),
 * };
 */
export interface Instrumentation {
  /** Headers stored with each new message (e.g. the active `traceparent`); the message's own headers win. */
  headers?(): Record<string, string>;
  /** Wraps one delivery attempt; must call `run` once and return (or rethrow) its outcome. */
  send?<T>(message: Message, attempt: number, run: () => Promise<T>): Promise<T>;
  /** Wraps one handler run (with its transaction); must call `run` once and return (or rethrow) its outcome. */
  handle?<T>(message: Message, attempt: number, run: () => Promise<T>): Promise<T>;
  /**
   * Wraps one batch handler run (`inbox.onBatch`, with its transaction);
   * `attempts[i]` is the attempt of `messages[i]`. Must call `run` once and
   * return (or rethrow) its outcome. Absent, a batch run is not wrapped (the
   * one-by-one runs after a failed batch are, by `handle`).
   */
  handleBatch?<T>(messages: readonly Message[], attempts: readonly number[], run: () => Promise<T>): Promise<T>;
}
