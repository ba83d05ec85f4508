import type { Clock } from '../clock.js';
import type { Message } from '../message.js';
import type { Claim } from '../ports/claim.js';
import type { Logger } from '../ports/logger.js';
import type { RetryPolicy } from '../retry-policy.js';
import { settleFailure, type FailureDecider, type FailureOutcome, type FailureStore } from '../internal/settle-failure.js';

/** The events a failed attempt emits: its retry (`failed` in the outbox, `handlerFailed` in the inbox) or its death. */
export type FailureEvent =
  | { kind: 'retry'; event: { message: Message; attempts: number; error: string; delayMs: number; retryAt: Date } }
  | { kind: 'dead'; event: { message: Message; attempts: number; error: string } };

/** What one side says about its failures: the log lines and how its events are emitted. */
export interface FailureAnnouncer {
  store: FailureStore;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** Log line of a retry, e.g. "delivery failed; will retry". */
  retryText: string;
  /** Log line of a death, e.g. "message is dead". */
  deadText: string;
  emit(failure: FailureEvent): void;
  /** What some failures mean on this side before the retry policy decides (the inbox's handler errors). */
  decide?: FailureDecider;
}

/**
 * Settles a failed attempt (retry with backoff or dead, fenced by its
 * claim), then logs it and emits its event. A fenced outcome (another
 * worker owns the row now) is neither logged nor emitted. Resolves with the
 * outcome.
 */
export async function settleAndAnnounce(
  side: FailureAnnouncer,
  attempt: { message: Message; claim: Claim; attempts: number },
  failure: { error: unknown; since: Date; policy: RetryPolicy },
): Promise<FailureOutcome> {
  const { message, claim, attempts } = attempt;
  const outcome = await settleFailure(side.store, claim, { attempts, since: failure.since, error: failure.error }, { policy: failure.policy, clock: side.clock, random: side.random, decide: side.decide });
  if (outcome.kind === 'retry') {
    side.logger.info({ id: message.id, type: message.type, attempts, error: outcome.error, delayMs: outcome.delayMs }, side.retryText);
    side.emit({ kind: 'retry', event: { message, attempts, error: outcome.error, delayMs: outcome.delayMs, retryAt: outcome.retryAt } });
  } else if (outcome.kind === 'dead') {
    side.logger.warn({ id: message.id, type: message.type, attempts, error: outcome.error }, side.deadText);
    side.emit({ kind: 'dead', event: { message, attempts, error: outcome.error } });
  }
  return outcome;
}
