import type { Clock } from '../clock.js';
import { MessageboxError } from '../errors.js';

/**
 * The circuit breaker of one destination (one transport of an outbox).
 * Consecutive failed attempts (timeouts, connection errors, 5xx) open it:
 * the worker stops claiming the destination's messages. After `openMs` it
 * is half-open and lets one message through as a probe: success closes it,
 * failure opens it again for twice as long (up to `maxOpenMs`). A 4xx
 * answer counts as the destination being up (it resets the count); a busy
 * answer (503/429 with `Retry-After`) and a message that never left the
 * process count neither way.
 *
 * @example
 * createOutbox({ store, flowControl: { breaker: { failureThreshold: 10, openMs: 2_000, maxOpenMs: 60_000 } } });
 * outbox.configure('invoice.sent', { transport: billing, breaker: false }); // this destination has none
 */
export interface CircuitBreakerOptions {
  /** Consecutive failed attempts to the destination that open its breaker. A positive integer; default 10. */
  failureThreshold?: number;
  /** How long the breaker stays open the first time before one probe is let through. Default 5 000 ms. */
  openMs?: number;
  /** Longest the breaker stays open: the open time doubles after each failed probe, up to this (so a destination that is back waits at most this long for its next probe). Default 60 000 ms. */
  maxOpenMs?: number;
}

export type ResolvedBreakerOptions = Readonly<Required<CircuitBreakerOptions>>;

/** `closed`: messages flow; `open`: none are claimed or sent; `half-open`: one probe may go. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What one attempt (one `send` or `sendBatch` call) told about its destination. */
export type AttemptVerdict = 'success' | 'failure' | 'neutral';

/** A change of state, as the breaker reports it. */
export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  /** Consecutive failures counted when it changed (0 after closing). */
  consecutiveFailures: number;
  /** `to: 'open'`: how long it stays open, and until when (clock ms). */
  openMs?: number;
  until?: number;
}

/** Proof that an attempt was let through, and in which state: outcomes of attempts let through before the last change are ignored. */
export interface BreakerTicket {
  readonly epoch: number;
  readonly probe: boolean;
}

export const DEFAULT_BREAKER_OPTIONS: ResolvedBreakerOptions = Object.freeze({ failureThreshold: 10, openMs: 5_000, maxOpenMs: 60_000 });

/** Fills defaults and validates; throws `invalid_options` naming `where` on a bad value. */
export function resolveBreakerOptions(options: CircuitBreakerOptions | undefined, where: string, base: ResolvedBreakerOptions = DEFAULT_BREAKER_OPTIONS): ResolvedBreakerOptions {
  if (options === undefined) return base;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new MessageboxError('invalid_options', `${where}: breaker must be an object like { failureThreshold: 5, openMs: 5000, maxOpenMs: 300000 } or false, got ${String(options)}`);
  }
  const resolved = {
    failureThreshold: options.failureThreshold ?? base.failureThreshold,
    openMs: options.openMs ?? base.openMs,
    maxOpenMs: options.maxOpenMs ?? Math.max(base.maxOpenMs, options.openMs ?? 0),
  };
  if (!Number.isInteger(resolved.failureThreshold) || resolved.failureThreshold < 1) {
    throw new MessageboxError('invalid_options', `${where}: breaker.failureThreshold must be a positive integer, got ${String(resolved.failureThreshold)}`);
  }
  if (typeof resolved.openMs !== 'number' || !Number.isFinite(resolved.openMs) || resolved.openMs <= 0) {
    throw new MessageboxError('invalid_options', `${where}: breaker.openMs must be a positive number of milliseconds, got ${String(resolved.openMs)}`);
  }
  if (typeof resolved.maxOpenMs !== 'number' || !Number.isFinite(resolved.maxOpenMs) || resolved.maxOpenMs < resolved.openMs) {
    throw new MessageboxError('invalid_options', `${where}: breaker.maxOpenMs must be a number of milliseconds >= openMs (${resolved.openMs}), got ${String(resolved.maxOpenMs)}`);
  }
  return Object.freeze(resolved);
}

/**
 * The breaker's state machine, on an injectable clock. It keeps no timers:
 * `refresh()` moves an open breaker whose time is up to half-open (the
 * owner calls it when its timer fires and before it claims).
 *
 * closed --(failureThreshold consecutive failures)--> open
 * open --(openMs passed; refresh)--> half-open
 * half-open --(probe succeeded)--> closed (open time back to `openMs`)
 * half-open --(probe failed)--> open (open time doubled, at most `maxOpenMs`)
 */
export class CircuitBreaker {
  readonly options: ResolvedBreakerOptions;
  readonly #clock: Clock;
  #state: BreakerState = 'closed';
  #failures = 0;
  #nextOpenMs: number;
  #until = 0;
  #probing = false;
  #epoch = 0;

  constructor(options: ResolvedBreakerOptions, clock: Clock) {
    this.options = options;
    this.#clock = clock;
    this.#nextOpenMs = options.openMs;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Consecutive failures counted so far (in the closed state), or that opened it. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** While open: when it becomes half-open (clock ms); otherwise undefined. */
  get openUntil(): number | undefined {
    return this.#state === 'open' ? this.#until : undefined;
  }

  /** True while half-open with its probe not yet taken: a claim of one message for the probe is worth making. */
  get wantsProbe(): boolean {
    return this.#state === 'half-open' && !this.#probing;
  }

  /** Moves an open breaker whose time is up to half-open; returns that transition, if any. */
  refresh(): BreakerTransition | undefined {
    if (this.#state !== 'open' || this.#clock.now() < this.#until) return undefined;
    return this.#move('half-open');
  }

  /**
   * Asks to let an attempt through: closed, yes; half-open, the first one
   * only (the probe); open, no. The ticket goes back with {@link record}.
   */
  admit(): BreakerTicket | undefined {
    this.refresh();
    if (this.#state === 'closed') return { epoch: this.#epoch, probe: false };
    if (this.#state === 'half-open' && !this.#probing) {
      this.#probing = true;
      return { epoch: this.#epoch, probe: true };
    }
    return undefined;
  }

  /**
   * Records what an attempt let through with `ticket` found; returns the
   * transition it caused, if any. A `neutral` probe (nothing was learnt:
   * not sent, or a busy answer) frees the probe slot for another message.
   */
  record(ticket: BreakerTicket, verdict: AttemptVerdict): BreakerTransition | undefined {
    if (ticket.epoch !== this.#epoch) return undefined;
    if (this.#state === 'closed') {
      if (verdict === 'success') this.#failures = 0;
      else if (verdict === 'failure' && ++this.#failures >= this.options.failureThreshold) return this.#open();
      return undefined;
    }
    if (this.#state !== 'half-open' || !ticket.probe) return undefined;
    if (verdict === 'neutral') {
      this.#probing = false;
      return undefined;
    }
    if (verdict === 'success') {
      this.#failures = 0;
      this.#nextOpenMs = this.options.openMs;
      return this.#move('closed');
    }
    this.#failures++;
    return this.#open();
  }

  #open(): BreakerTransition {
    const openMs = this.#nextOpenMs;
    this.#nextOpenMs = Math.min(this.options.maxOpenMs, openMs * 2);
    this.#until = this.#clock.now() + openMs;
    return { ...this.#move('open'), openMs, until: this.#until };
  }

  #move(to: BreakerState): BreakerTransition {
    const from = this.#state;
    this.#state = to;
    this.#probing = false;
    this.#epoch++;
    return { from, to, consecutiveFailures: this.#failures };
  }
}
