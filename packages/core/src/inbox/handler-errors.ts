import { isMessageboxError, MessageboxError } from '../errors.js';
import { decideRetry, type RetryDecision, type RetryPolicy } from '../retry-policy.js';

/**
 * Thrown by an inbox handler for a message no retry can fix (a poison
 * message: a payload it can never accept, an order that does not exist): the
 * handler's transaction rolls back and the message is dead at once, whatever
 * attempts its retry policy has left, with `lastError`
 * `"<reason> — dead-lettered by the handler"` and a `dead` event. Replay it
 * (`messagebox inbox replay`, the dashboard) once the cause is fixed.
 *
 * From a batch handler (`inbox.onBatch`) given several messages it does not
 * say which one is poison: the batch runs again one message at a time, as for
 * any error, and the message whose run throws it again is dead (the others
 * are handled). In inline mode the receiving transaction rolls back (the
 * handler's writes with it), then the message is stored dead on its own and
 * `receive` answers `created`: the sender stops retrying a message no retry
 * can fix.
 *
 * Recognise it with `isMessageboxError(error, 'dead_letter')` (it works across
 * copies of `@messagebox/core`; `instanceof` does not).
 *
 * @example
 * inbox.on('payment.created', async (message, { tx }) => {
 *   const account = await tx.selectFrom('account').selectAll().where('id', '=', message.payload.accountId).executeTakeFirst();
 *   if (!account) throw new DeadLetterError(`account ${message.payload.accountId} does not exist`);
 *   …
 * });
 */
export class DeadLetterError extends MessageboxError {
  override readonly name = 'DeadLetterError';
  declare readonly code: 'dead_letter';

  constructor(reason: string, options?: { cause?: unknown }) {
    super('dead_letter', reason, options);
  }
}

/** When a {@link RetryLaterError} asks to be retried: at a time, or after a delay from when the handler failed. */
export type RetryLaterOptions = ({ at: Date; afterMs?: never } | { afterMs: number; at?: never }) & { cause?: unknown };

/**
 * Thrown by an inbox handler that wants its message run again at a given
 * time rather than after the retry policy's backoff (a downstream said "come
 * back in 30 s", a business day that has not started): the handler's
 * transaction rolls back and the message is due again exactly then (no
 * jitter, no `maxDelayMs` cap; a time in the past means now), with `reason`
 * as `lastError` and a `handlerFailed` event whose `retryAt` is that time.
 *
 * The run still counts as an attempt, and `maxAttempts` and `maxAgeMs` still
 * apply: when they are spent the message is dead as after any failure, so a
 * handler cannot postpone a message forever by mistake.
 *
 * From a batch handler it asks the same for every message of the batch: each
 * is scheduled for that time on its own (they are not run again one by one
 * first). In inline mode the receiving transaction rolls back, then the
 * message is stored due at that time (handled by the worker then) and
 * `receive` answers `created`.
 *
 * Recognise it with `isMessageboxError(error, 'retry_later')`. An invalid
 * `at` or `afterMs` throws `invalid_options` from the constructor (the
 * handler then fails and is retried with backoff).
 *
 * @example
 * inbox.on('invoice.issued', async (message, { tx }) => {
 *   const answer = await fetch(bank, { method: 'POST', body: JSON.stringify(message.payload) });
 *   if (answer.status === 429) throw new RetryLaterError('the bank is rate limiting us', { afterMs: 30_000 });
 *   if (!bankIsOpen()) throw new RetryLaterError('the bank is closed', { at: nextOpening() });
 *   …
 * });
 */
export class RetryLaterError extends MessageboxError {
  override readonly name = 'RetryLaterError';
  declare readonly code: 'retry_later';
  /** The time asked for, when given as `at`. */
  readonly retryAt: Date | undefined;
  /** The delay asked for, when given as `afterMs`, counted from when the failure is recorded. */
  readonly retryAfterMs: number | undefined;

  constructor(reason: string, options: RetryLaterOptions) {
    const at: unknown = options?.at;
    const afterMs: unknown = options?.afterMs;
    if ((at === undefined) === (afterMs === undefined)) {
      throw new MessageboxError('invalid_options', 'new RetryLaterError(reason, options): give exactly one of `at` (a Date) or `afterMs` (milliseconds)');
    }
    if (at !== undefined && !(at instanceof Date && Number.isFinite(at.getTime()))) {
      throw new MessageboxError('invalid_options', `new RetryLaterError(reason, { at }): at must be a valid Date, got ${String(at)}`);
    }
    if (afterMs !== undefined && !(typeof afterMs === 'number' && Number.isFinite(afterMs) && afterMs >= 0)) {
      throw new MessageboxError('invalid_options', `new RetryLaterError(reason, { afterMs }): afterMs must be a finite number >= 0, got ${String(afterMs)}`);
    }
    super('retry_later', reason, { cause: options.cause });
    this.retryAt = at as Date | undefined;
    this.retryAfterMs = afterMs as number | undefined;
  }
}

/** The delay a {@link RetryLaterError} (of any copy of core) asks for at `now`; undefined for any other error. */
function askedDelayMs(error: unknown, now: number): number | undefined {
  if (!isMessageboxError(error, 'retry_later')) return undefined;
  const { retryAt, retryAfterMs } = error as Partial<RetryLaterError>;
  if (retryAt instanceof Date && Number.isFinite(retryAt.getTime())) return Math.max(0, retryAt.getTime() - now);
  if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) return retryAfterMs;
  return undefined;
}

/**
 * What the inbox does after a handler threw one of the errors above: dead
 * at once, or retried exactly when asked (within `maxAttempts`/`maxAgeMs`).
 * Undefined for any other error: the retry policy decides.
 */
export function decideHandlerFailure(policy: RetryPolicy, failure: { attempts: number; ageMs: number; error: unknown }, now: number): RetryDecision | undefined {
  if (isMessageboxError(failure.error, 'dead_letter')) return { retry: false, reason: 'dead-lettered by the handler' };
  const delayMs = askedDelayMs(failure.error, now);
  if (delayMs === undefined) return undefined;
  const bounds = decideRetry(policy, { attempts: failure.attempts, ageMs: failure.ageMs });
  if (!bounds.retry) return bounds;
  // A retry asked for after maxAgeMs would run a message the policy has already given up on.
  if (policy.maxAgeMs !== undefined && failure.ageMs + delayMs > policy.maxAgeMs) {
    return { retry: false, reason: `gave up: the retry asked for (in ${delayMs} ms) falls after maxAgeMs (${policy.maxAgeMs} ms)` };
  }
  return { retry: true, delayMs };
}

/** True when a batch handler's failure asks for every message of the batch to be retried later as they are (a {@link RetryLaterError}), rather than run again one by one. */
export function retriesBatchLater(error: unknown): boolean {
  return isMessageboxError(error, 'retry_later');
}

/** The `DeadLetterError` or `RetryLaterError` an inline handler threw (the cause of the inbox's `handler_failed`), or undefined. */
export function meantByHandler(error: unknown): unknown {
  const cause = isMessageboxError(error, 'handler_failed') ? (error as { cause?: unknown }).cause : undefined;
  return isMessageboxError(cause, 'dead_letter', 'retry_later') ? cause : undefined;
}
