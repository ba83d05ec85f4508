import { escapeControlCharacters, truncateText } from './text.js';

/** Machine-readable reasons a messagebox operation failed. */
export type MessageboxErrorCode =
  | 'invalid_message'
  | 'invalid_payload'
  | 'no_transport'
  | 'unknown_type'
  | 'invalid_options'
  | 'transport_failed'
  | 'lease_lost'
  | 'store_failed'
  | 'handler_failed'
  | 'shutdown_timeout'
  /** Thrown by a handler: dead-letter this message now (`DeadLetterError`). */
  | 'dead_letter'
  /** Thrown by a handler: run this message again at the time asked (`RetryLaterError`). */
  | 'retry_later';

/**
 * Brands shared by every copy of `@messagebox/core` in a process
 * (`Symbol.for` keys are global): an app can end up with two copies (an
 * adapter resolved another version), and `instanceof` fails across them.
 * Recognise messagebox errors with {@link isMessageboxError} and
 * {@link isTransportError}, which read these brands.
 */
const MESSAGEBOX_ERROR = Symbol.for('@messagebox/core/MessageboxError');
const TRANSPORT_ERROR = Symbol.for('@messagebox/core/TransportError');

/**
 * Base class of every error messagebox throws on purpose. `code` is stable and
 * safe to branch on; `message` is for people and starts with `[messagebox]`.
 * Test for it with {@link isMessageboxError}, not `instanceof` (which fails
 * when the error comes from another copy of `@messagebox/core`).
 *
 * @example
 * try { await outbox.add(tx, input) } catch (err) {
 *   if (isMessageboxError(err, 'no_transport')) ...
 * }
 */
export class MessageboxError extends Error {
  override readonly name: string = 'MessageboxError';
  readonly code: MessageboxErrorCode;

  constructor(code: MessageboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message.startsWith('[messagebox]') ? message : `[messagebox] ${message}`, options);
    this.code = code;
    Object.defineProperty(this, MESSAGEBOX_ERROR, { value: true });
  }
}

/**
 * Whether `error` is a {@link MessageboxError} (from any copy of
 * `@messagebox/core`), optionally with one of the given codes.
 *
 * @example
 * if (isMessageboxError(err, 'lease_lost')) return;
 */
export function isMessageboxError(error: unknown, ...codes: MessageboxErrorCode[]): error is MessageboxError {
  if (typeof error !== 'object' || error === null || (error as Record<symbol, unknown>)[MESSAGEBOX_ERROR] !== true) return false;
  return codes.length === 0 || codes.includes((error as MessageboxError).code);
}

/**
 * Whether `error` is a {@link TransportError} (from any copy of
 * `@messagebox/core`): the outbox reads its `retryable`, `retryAfterMs`,
 * `notAttempted` and `timedOut` through this check.
 *
 * @example
 * if (isTransportError(err) && !err.retryable) console.warn('dead at once', err.status);
 */
export function isTransportError(error: unknown): error is TransportError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[TRANSPORT_ERROR] === true;
}

/**
 * Thrown by a {@link Transport} when a message could not be delivered.
 * `retryable: false` makes the message dead at once (no retry can help, e.g. a
 * 400 from the receiver); `retryAfterMs` overrides the backoff delay for the
 * next attempt (e.g. from a `Retry-After` header). `notAttempted: true` says
 * the message never left this process (the outbox gives it back uncounted);
 * `timedOut: true` says the receiver did not answer in time (the outbox slows
 * down to that transport). `busy: true` says the receiver refused the message
 * because it is overloaded and asked to come back after `retryAfterMs` (HTTP
 * 503/429 with `Retry-After`): the outbox gives the message back uncounted and
 * pauses every message to that transport for that long (capped by
 * `flowControl.maxPauseMs`).
 *
 * @example
 * throw new TransportError('[messagebox] no connection free within 10000 ms', { notAttempted: true });
 */
export class TransportError extends MessageboxError {
  override readonly name = 'TransportError';
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** The receiver's HTTP status (or the equivalent of another protocol), when there was one. */
  readonly status: number | undefined;
  /**
   * True when nothing was sent to the receiver because of a limit of this
   * process (e.g. no connection became free in time, or shutdown while
   * waiting for one). The outbox then gives the claim back (`store.release`:
   * attempts not counted, due again now) instead of recording a failure.
   * Default false.
   */
  readonly notAttempted: boolean;
  /**
   * True when the receiver did not answer within the transport's deadline.
   * The outbox then halves how many attempts it runs at once to this
   * transport (see `Transport.maxConcurrency`). Default false.
   */
  readonly timedOut: boolean;
  /**
   * True when the receiver is alive but refused the message because it is
   * busy, asking for a pause of `retryAfterMs` (the HTTP transport: a 503 or
   * 429 answer with a `Retry-After` header, in seconds or as an HTTP date).
   * The outbox then gives the claim back uncounted (the refusal does not
   * count towards `maxAttempts`, and a message is never dead because of it),
   * pauses sending to this transport (all its messages) for `retryAfterMs`
   * (at most `flowControl.maxPauseMs`, default 5 minutes), and does not count
   * the answer as a failure for the circuit breaker. Default false.
   */
  readonly busy: boolean;

  constructor(
    message: string,
    options: { retryable?: boolean; retryAfterMs?: number; status?: number; notAttempted?: boolean; timedOut?: boolean; busy?: boolean; cause?: unknown } = {},
  ) {
    super('transport_failed', message, { cause: options.cause });
    this.retryable = options.retryable ?? true;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.notAttempted = options.notAttempted ?? false;
    this.timedOut = options.timedOut ?? false;
    this.busy = options.busy ?? false;
    Object.defineProperty(this, TRANSPORT_ERROR, { value: true });
  }
}

/**
 * A short, single-line description of any thrown value, for storing as
 * `last_error` and for logs: control characters are escaped (the text often
 * comes from a remote peer, e.g. a receiver's error body) and it is cut to
 * `maxLength` characters.
 *
 * @example
 * describeError(new Error('bad\n\x1b[2J')) // 'bad\\n\\u001b[2J'
 */
export function describeError(error: unknown, maxLength = 2000): string {
  let text: string;
  if (error instanceof Error) {
    text = (error.message || error.name).replace(/^\[messagebox\] /, '');
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message && !text.includes(cause.message)) text += ` (cause: ${cause.message})`;
  } else {
    text = typeof error === 'string' ? error : safeString(error);
  }
  return truncateText(escapeControlCharacters(text), maxLength);
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
