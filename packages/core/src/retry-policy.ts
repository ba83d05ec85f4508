import { MessageboxError } from './errors.js';

/**
 * How failed deliveries (outbox) and failed handlers (inbox) are retried:
 * exponential backoff with a cap and jitter, bounded by attempts and age.
 *
 * Delay before attempt n+1, after n failed attempts: `initialDelayMs *
 * factor^(n-1)`, spread uniformly within ±`jitter` of itself, and never more
 * than `maxDelayMs` (the cap applies after the jitter; at the cap delays
 * spread below it). A `Retry-After` from the receiver replaces the backoff:
 * the delay is never shorter than asked (up to `maxDelayMs`) and up to
 * `jitter` of it longer (at least `jitter` × 1 s), so the messages that one
 * 429 refused do not all come back at the same instant.
 *
 * @example
 * createOutbox({ store, retry: { initialDelayMs: 500, maxAttempts: 20 } })
 */
export interface RetryPolicyOptions {
  /** Delay after the first failure. Default 1 000 ms. */
  initialDelayMs?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /** Cap on a single delay. Default 1 hour. */
  maxDelayMs?: number;
  /** Fraction of the delay randomised in each direction, 0 to 1. Default 0.2. */
  jitter?: number;
  /** Attempts in all, the first one included; when spent the message is dead. Default 10. */
  maxAttempts?: number;
  /** A message older than this when it fails is dead, whatever its attempts: in the outbox since it was created, in the inbox since it was received (the receiving store's time: database time for SQL stores), measured against this process's clock. Default: no limit. */
  maxAgeMs?: number;
}

export interface RetryPolicy extends Readonly<Required<Omit<RetryPolicyOptions, 'maxAgeMs'>>> {
  readonly maxAgeMs: number | undefined;
}

/** What to do after a failed attempt. */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  initialDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 3_600_000,
  jitter: 0.2,
  maxAttempts: 10,
  maxAgeMs: undefined,
});

/** Fills defaults and validates; throws `MessageboxError('invalid_options')` on nonsense. */
export function createRetryPolicy(options: RetryPolicyOptions = {}, base: RetryPolicy = defaultRetryPolicy): RetryPolicy {
  const policy: RetryPolicy = Object.freeze({ ...base, ...stripUndefined(options) });
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new MessageboxError('invalid_options', `retry policy: ${what}`);
  };
  check(Number.isFinite(policy.initialDelayMs) && policy.initialDelayMs >= 0, 'initialDelayMs must be a number >= 0');
  check(Number.isFinite(policy.factor) && policy.factor >= 1, 'factor must be a number >= 1');
  check(Number.isFinite(policy.maxDelayMs) && policy.maxDelayMs >= policy.initialDelayMs, 'maxDelayMs must be >= initialDelayMs');
  check(Number.isFinite(policy.jitter) && policy.jitter >= 0 && policy.jitter <= 1, 'jitter must be between 0 and 1');
  check(Number.isInteger(policy.maxAttempts) && policy.maxAttempts >= 1, 'maxAttempts must be an integer >= 1');
  check(policy.maxAgeMs === undefined || (Number.isFinite(policy.maxAgeMs) && policy.maxAgeMs > 0), 'maxAgeMs must be > 0');
  return policy;
}

/**
 * The delay before the next attempt after `failedAttempts` failures:
 * finite, between 0 and `policy.maxDelayMs`. `random` returns [0, 1).
 */
export function backoffDelay(policy: RetryPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const grown = policy.initialDelayMs * policy.factor ** exponent;
  const raw = policy.initialDelayMs <= 0 ? 0 : Number.isFinite(grown) ? Math.min(policy.maxDelayMs, grown) : policy.maxDelayMs;
  const spread = raw * policy.jitter;
  return pick(Math.max(0, raw - spread), Math.min(policy.maxDelayMs, raw + spread), random);
}

/** The delay for a receiver that asked to wait `retryAfterMs`: never shorter (up to the cap), a little longer at random. */
function retryAfterDelay(policy: RetryPolicy, retryAfterMs: number, random: () => number): number {
  const asked = Math.min(policy.maxDelayMs, retryAfterMs);
  return pick(asked, Math.min(policy.maxDelayMs, asked + policy.jitter * Math.max(asked, RETRY_AFTER_MIN_SPREAD_MS)), random);
}

const RETRY_AFTER_MIN_SPREAD_MS = 1_000;

/** The point of [lo, hi] that `random()` gives, rounded to whole ms where that stays inside. */
function pick(lo: number, hi: number, random: () => number): number {
  const r = random();
  const at = Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0.5;
  return Math.min(hi, Math.max(lo, Math.round(lo + (hi - lo) * at)));
}

/**
 * Decides whether a failed attempt is retried, and after how long.
 * `attempts` counts attempts made so far, the failed one included.
 */
export function decideRetry(
  policy: RetryPolicy,
  failure: { attempts: number; ageMs: number; retryable?: boolean; retryAfterMs?: number | undefined },
  random: () => number = Math.random,
): RetryDecision {
  if (failure.retryable === false) return { retry: false, reason: 'the failure is permanent (not retryable)' };
  if (failure.attempts >= policy.maxAttempts) return { retry: false, reason: `gave up after ${failure.attempts} attempts` };
  if (policy.maxAgeMs !== undefined && failure.ageMs >= policy.maxAgeMs) {
    return { retry: false, reason: `gave up: older than maxAgeMs (${policy.maxAgeMs} ms)` };
  }
  const retryAfterMs = failure.retryAfterMs;
  const delayMs =
    retryAfterMs !== undefined && retryAfterMs >= 0 ? retryAfterDelay(policy, retryAfterMs, random) : backoffDelay(policy, failure.attempts, random);
  return { retry: true, delayMs };
}

/** The longest time a message can keep being retried under `policy` (jitter at its maximum). */
export function longestRetrySpanMs(policy: RetryPolicy): number {
  let total = 0;
  for (let n = 1; n < policy.maxAttempts; n++) total += backoffDelay(policy, n, () => 1);
  return policy.maxAgeMs === undefined ? total : Math.min(total, policy.maxAgeMs);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
