import { isTransportError, type TransportError } from '../errors.js';
import type { AttemptVerdict } from './circuit-breaker.js';

/** Default longest pause a busy answer can ask for: 5 minutes. */
export const DEFAULT_MAX_PAUSE_MS = 300_000;
/** Pause after a busy answer that named no time (a transport's `busy: true` without `retryAfterMs`): 1 s. */
export const DEFAULT_BUSY_PAUSE_MS = 1_000;
/**
 * Shortest pause a busy answer causes: 1 s. A `Retry-After: 0` would
 * otherwise have the refused message claimed and sent again at once, in a
 * loop that counts no attempt and never ends.
 */
export const MIN_BUSY_PAUSE_MS = 1_000;

/**
 * The pause of one destination after a busy answer: until a time on the
 * outbox's clock. A later busy answer can lengthen it, never shorten it;
 * no pause is longer than `maxPauseMs` from the answer that asked for it,
 * so a hostile or broken receiver (`Retry-After: 999999999`) cannot stop a
 * sender for longer than that, and none is shorter than
 * {@link MIN_BUSY_PAUSE_MS} (a `Retry-After: 0` cannot make it spin).
 */
export class DestinationPause {
  #until = 0;

  constructor(readonly maxPauseMs: number) {}

  /** When the pause ends (clock ms), or undefined when not paused at `now`. */
  until(now: number): number | undefined {
    return this.#until > now ? this.#until : undefined;
  }

  /** Pauses for `askedMs` (capped) from `now`; returns how long the pause now lasts from `now`, or undefined when an existing longer pause already covers it. */
  pause(askedMs: number, now: number): number | undefined {
    const until = now + Math.min(Math.max(MIN_BUSY_PAUSE_MS, askedMs), this.maxPauseMs);
    if (until <= this.#until) return undefined;
    this.#until = until;
    return until - now;
  }
}

/**
 * What the outcomes of one attempt (one `send`, or one `sendBatch` with an
 * outcome per message; `undefined`: delivered) tell about the destination:
 * a busy answer (the largest `retryAfterMs` among them), `success` (one was
 * delivered, or the receiver answered with a 4xx: it is up), `neutral`
 * (nothing left this process) or `failure` (timeouts, connection errors,
 * 5xx, 3xx, errors of unknown kind).
 */
export function judgeAttempt(outcomes: readonly unknown[]): { verdict: AttemptVerdict; busy?: TransportError } {
  let busy: TransportError | undefined;
  let answered = false;
  let sent = false;
  for (const outcome of outcomes) {
    if (outcome === undefined) return { verdict: 'success' };
    if (!isTransportError(outcome)) {
      sent = true;
      continue;
    }
    if (outcome.busy) {
      if (!busy || (outcome.retryAfterMs ?? 0) > (busy.retryAfterMs ?? 0)) busy = outcome;
    } else if (outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500) answered = true;
    else if (!outcome.notAttempted) sent = true;
  }
  if (busy) return { verdict: 'neutral', busy };
  if (answered) return { verdict: 'success' };
  return { verdict: sent ? 'failure' : 'neutral' };
}
