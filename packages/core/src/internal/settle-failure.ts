import type { Clock } from '../clock.js';
import { describeError, isTransportError, MessageboxError } from '../errors.js';
import type { Claim, RetryOptions } from '../ports/claim.js';
import { decideRetry, type RetryDecision, type RetryPolicy } from '../retry-policy.js';

/** The part of a store that records a failed attempt. */
export interface FailureStore {
  scheduleRetry(claim: Claim, options: RetryOptions): Promise<boolean>;
  markDead(claim: Claim, options: { error: string }): Promise<boolean>;
}

export type FailureOutcome =
  | { kind: 'retry'; error: string; delayMs: number; retryAt: Date }
  | { kind: 'dead'; error: string }
  | { kind: 'fenced'; error: string };

/**
 * Records a failed attempt: reschedules it with backoff, or marks it dead
 * when the policy gives up or the error is permanent. Fenced by the claim.
 */
export async function settleFailure(
  store: FailureStore,
  claim: Claim,
  /** `since`: when the message's age (for `maxAgeMs`) starts, on the caller's clock: its creation (outbox) or its receipt (inbox). */
  failure: { attempts: number; since: Date; error: unknown },
  /** `decide`: a side's own decision for some errors (the inbox's handler errors); undefined leaves it to the policy. */
  env: { policy: RetryPolicy; clock: Clock; random: () => number; decide?: FailureDecider | undefined },
): Promise<FailureOutcome> {
  const error = describeError(failure.error);
  const transportError = isTransportError(failure.error) ? failure.error : undefined;
  const ageMs = env.clock.now() - failure.since.getTime();
  const decision = env.decide?.(env.policy, { attempts: failure.attempts, ageMs, error: failure.error }, env.clock.now()) ?? decideRetry(
    env.policy,
    {
      attempts: failure.attempts,
      ageMs,
      // Any error but a non-retryable TransportError may be cured by a later attempt: an invalid payload a handler met
      // (say, in its own outbox.add) is a bug a deploy can fix; a handler says "never" with DeadLetterError.
      retryable: transportError?.retryable ?? true,
      retryAfterMs: transportError?.retryAfterMs,
    },
    env.random,
  );
  if (decision.retry) {
    const retryAt = new Date(env.clock.now() + decision.delayMs);
    const applied = await store.scheduleRetry(claim, { delayMs: decision.delayMs, error });
    return applied ? { kind: 'retry', error, delayMs: decision.delayMs, retryAt } : { kind: 'fenced', error };
  }
  const deadError = `${error} — ${decision.reason}`;
  const applied = await store.markDead(claim, { error: deadError });
  return applied ? { kind: 'dead', error: deadError } : { kind: 'fenced', error };
}

/** Decides what a failure means before the retry policy does; undefined: the policy decides. */
export type FailureDecider = (policy: RetryPolicy, failure: { attempts: number; ageMs: number; error: unknown }, now: number) => RetryDecision | undefined;

/** An attempt that started once too often (its worker crashed or lost its lease each time) is not tried again. */
export function exhaustedBeforeStart(attempts: number, policy: RetryPolicy): MessageboxError | undefined {
  if (attempts <= policy.maxAttempts) return undefined;
  return new MessageboxError(
    'lease_lost',
    `attempt ${attempts} exceeds maxAttempts (${policy.maxAttempts}): earlier attempts never finished (worker crash or lease expiry)`,
  );
}
