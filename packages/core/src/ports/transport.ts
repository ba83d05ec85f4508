import type { Message } from '../message.js';

/** Per-call context a transport receives. */
export interface SendContext {
  /** Aborted when the worker shuts down and cannot wait any longer. */
  signal?: AbortSignal;
  /** Which attempt this is, starting at 1. */
  attempt: number;
}

/** Per-call context of {@link Transport.sendBatch}. */
export interface SendBatchContext {
  /** Aborted when the worker shuts down and cannot wait any longer. */
  signal?: AbortSignal;
  /** Which attempt this is for each message, starting at 1, in the order of `messages`. */
  attempts: readonly number[];
}

/**
 * What happened to one message of a {@link Transport.sendBatch} call:
 * delivered (guaranteed, as a resolved `send` is), or failed with `error`
 * (ideally a `TransportError`: retryable or not, `retryAfterMs`,
 * `notAttempted`, `timedOut` mean what they mean for `send`).
 */
export type SendOutcome = { delivered: true } | { delivered: false; error: unknown };

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
  /**
   * Delivers `message`. Treat the message as read-only, its payload
   * included: a payload the outbox claimed is sent as the JSON text it was
   * stored as (`payloadJson`), so a change made to the object in place (to
   * redact a field, say) would not reach the wire. Send a copy instead.
   */
  send(message: Message, context: SendContext): Promise<void>;
  /**
   * Optional: delivers several messages in one exchange (the HTTP transport:
   * one signed request). Used only for routes configured with `batch`
   * (`outbox.configure(type, { transport, batch: { maxMessages, maxBytes } })`);
   * all messages of a call go to this transport's one destination.
   *
   * Resolves with exactly one {@link SendOutcome} per message, in the order
   * of `messages`: a batch never succeeds or fails as a whole, each message
   * is settled on its own (sent, retried, dead, given back). A failure of
   * the whole exchange (connection refused, a non-2xx answer, a timeout) is
   * reported as that failure in every outcome. Should not reject; when it
   * does, or resolves with the wrong number of outcomes, the outbox records
   * that as a retryable failure of every message. A call holds one of the
   * `maxConcurrency` slots, whatever its size.
   *
   * @example
   * async sendBatch(messages) {
   *   const answers = await appendAllToDurableLog(messages);
   *   return answers.map((ok) => (ok ? { delivered: true } : { delivered: false, error: new TransportError('[log] refused', { retryable: false }) }));
   * }
   */
  sendBatch?(messages: readonly Message[], context: SendBatchContext): Promise<readonly SendOutcome[]>;
  /** Releases sockets or connections; called by `outbox.close()`. */
  close?(): Promise<void>;
}
