import type { Message } from '../message.js';

/** Per-call context a transport receives. */
export interface SendContext {
  /** Aborted when the worker shuts down and cannot wait any longer. */
  signal?: AbortSignal;
  /** Which attempt this is, starting at 1. */
  attempt: number;
}

/**
 * Delivers messages somewhere. The one rule: `send` resolves **only** when
 * delivery is guaranteed (for HTTP: the receiver answered 2xx after durably
 * storing the message). Otherwise it rejects, ideally with a
 * `TransportError` saying whether a retry can help and when; any other
 * error is treated as retryable.
 *
 * @example
 * const logTransport: Transport = {
 *   name: 'log',
 *   async send(message) { await appendToDurableLog(message) },
 * };
 * outbox.configure('payment.created', { transport: logTransport });
 */
export interface Transport {
  /** Shown in logs and errors. */
  readonly name: string;
  /**
   * Optional: most `send` calls this transport serves at once without
   * queueing (the HTTP transport: `maxConnections`). The outbox never runs
   * more attempts at once to this transport; when attempts time out
   * (`TransportError.timedOut`) it halves that number, and adds one back per
   * success, up to this value. Without it the outbox's `concurrency` is the
   * bound. A positive integer.
   */
  readonly maxConcurrency?: number;
  send(message: Message, context: SendContext): Promise<void>;
  /** Releases sockets or connections; called by `outbox.close()`. */
  close?(): Promise<void>;
}
