import type { Clock } from '../clock.js';
import { describeError, MessageboxError } from '../errors.js';
import type { Logger } from '../ports/logger.js';
import type { Transport } from '../ports/transport.js';
import { CircuitBreaker, resolveBreakerOptions, type BreakerState, type BreakerTicket, type BreakerTransition, type CircuitBreakerOptions, type ResolvedBreakerOptions } from './circuit-breaker.js';
import { DEFAULT_BUSY_PAUSE_MS, DEFAULT_MAX_PAUSE_MS, DestinationPause, judgeAttempt, MIN_BUSY_PAUSE_MS } from './destination-pause.js';

/**
 * How the outbox treats a destination (a transport) that is busy or down.
 *
 * @example
 * createOutbox({ store, flowControl: { maxPauseMs: 60_000, breaker: { failureThreshold: 10 } } });
 */
export interface FlowControlOptions {
  /**
   * Longest pause a busy answer (`TransportError.busy`: HTTP 503/429 with
   * `Retry-After`) can impose on a destination; a longer `Retry-After` is
   * cut to this, so a receiver cannot stop a sender for good. At least
   * 1 000 ms, which is also the shortest pause (a `Retry-After: 0` pauses
   * 1 s). Default 300 000 ms (5 minutes).
   */
  maxPauseMs?: number;
  /**
   * The circuit breaker of every destination (see {@link CircuitBreakerOptions});
   * a route's own `breaker` overrides it for its transport. `false`: no
   * breaker unless a route asks for one. Default: on, with the defaults.
   */
  breaker?: CircuitBreakerOptions | false;
  /**
   * This process's name in the destination states it writes for
   * `messagebox status` (on every breaker change and busy pause, with
   * stores that have `saveDestinationState`). Default `<source>@<pid>`
   * plus a random suffix.
   */
  worker?: string;
}

/** A breaker changed state (`outbox.events.on('breaker', …)`). */
export interface BreakerEvent {
  /** The destination: the transport's name (`#2`, `#3`… appended when several transports of one outbox share a name). */
  destination: string;
  state: BreakerState;
  previous: BreakerState;
  /** Consecutive failures that opened it (0 when it closes). */
  consecutiveFailures: number;
  /** `state: 'open'`: how long it stays open before a probe, and until when. */
  openMs?: number;
  until?: Date;
  /** `state: 'open'`: the failure that opened it. */
  error?: string;
}

/** A busy answer paused a destination (`outbox.events.on('paused', …)`). */
export interface PauseEvent {
  destination: string;
  /** How long sending to it is paused from now (the receiver's `Retry-After`, at most `maxPauseMs`). */
  pauseMs: number;
  until: Date;
  /** What the receiver asked for, before the cap. */
  askedMs: number;
  /** The receiver's answer, e.g. "destination busy (answered 503), retry after 5 s…". */
  error: string;
}

/** One destination's flow state, as `outbox.destinations()` reports it. */
export interface DestinationState {
  destination: string;
  /** The message types routed to it. */
  types: string[];
  /** `disabled`: no breaker is configured for it. */
  breaker: BreakerState | 'disabled';
  consecutiveFailures: number;
  /** While open: when a probe will be let through. */
  openUntil: Date | null;
  /** While a busy answer pauses it: when sending resumes. */
  pausedUntil: Date | null;
}

interface Destination {
  readonly transport: Transport;
  readonly name: string;
  readonly types: Set<string>;
  readonly pause: DestinationPause;
  readonly breaker: CircuitBreaker | undefined;
  /** A probe claim for it is running (so no second one is made meanwhile). */
  probeClaiming: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Lets a dispatch of `admitted` messages to a destination through (the rest is deferred: given back uncounted). */
export interface Admission {
  admitted: number;
  ticket: BreakerTicket | undefined;
  /** Why nothing or only a probe was admitted, for the log. */
  reason?: string;
}

/**
 * The outbox's per-destination flow control: busy pauses and circuit
 * breakers, keyed by transport. The outbox asks it which types it may claim
 * (those of destinations that are neither paused nor open), which
 * destinations want a probe claim, and before each send how many of a
 * dispatch's messages may go; it tells it every attempt's outcomes. Timers
 * (unref'd) wake the worker when a pause ends or a breaker may probe.
 */
export class FlowControl {
  readonly #byTransport = new Map<Transport, Destination>();
  readonly #byType = new Map<string, Destination>();
  readonly #names = new Set<string>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxPauseMs: number;
  readonly #breaker: ResolvedBreakerOptions | undefined;
  readonly #onBreaker: (event: BreakerEvent) => void;
  readonly #onPause: (event: PauseEvent) => void;
  readonly #wake: () => void;
  readonly #onChange: (state: DestinationState) => void;

  constructor(options: {
    onChange(state: DestinationState): void;
    flowControl: FlowControlOptions | undefined;
    clock: Clock;
    logger: Logger;
    onBreaker(event: BreakerEvent): void;
    onPause(event: PauseEvent): void;
    wake(): void;
  }) {
    const flow = options.flowControl ?? {};
    if (flow === null || typeof flow !== 'object' || Array.isArray(flow)) {
      throw new MessageboxError('invalid_options', `createOutbox: flowControl must be an object like { maxPauseMs: 300000, breaker: { failureThreshold: 5 } }, got ${String(flow)}`);
    }
    const maxPauseMs = flow.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
    if (typeof maxPauseMs !== 'number' || !Number.isFinite(maxPauseMs) || maxPauseMs < MIN_BUSY_PAUSE_MS) {
      throw new MessageboxError('invalid_options', `createOutbox: flowControl.maxPauseMs must be a number of milliseconds >= ${MIN_BUSY_PAUSE_MS}, got ${String(maxPauseMs)}`);
    }
    this.#maxPauseMs = maxPauseMs;
    this.#breaker = flow.breaker === false ? undefined : resolveBreakerOptions(flow.breaker, 'createOutbox: flowControl');
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#onBreaker = options.onBreaker;
    this.#onPause = options.onPause;
    this.#wake = options.wake;
    this.#onChange = options.onChange;
  }

  /**
   * Routes `type` to `transport`'s destination (created on first use, with
   * `breaker` or the outbox's default). Throws `invalid_options` for a bad
   * `breaker`, or one that differs from what another route of the same
   * transport set. Call before any message of `type` is claimed.
   */
  add(type: string, transport: Transport, breaker: CircuitBreakerOptions | false | undefined): void {
    const where = `configure("${type}")`;
    const options = breaker === false ? undefined : breaker === undefined ? this.#breaker : resolveBreakerOptions(breaker, where, this.#breaker ?? undefined);
    const previous = this.#byType.get(type);
    if (previous && previous.transport !== transport) previous.types.delete(type);
    let destination = this.#byTransport.get(transport);
    if (destination) {
      if (breaker !== undefined && !sameBreaker(destination.breaker?.options, options)) {
        throw new MessageboxError('invalid_options', `${where}: transport "${destination.name}" already has a breaker from another route (${describeBreaker(destination.breaker?.options)}); routes that share a transport share its breaker, so give it once or the same`);
      }
    } else {
      destination = {
        transport,
        name: this.#uniqueName(transport.name),
        types: new Set(),
        pause: new DestinationPause(this.#maxPauseMs),
        breaker: options ? new CircuitBreaker(options, this.#clock) : undefined,
        probeClaiming: false,
        timer: undefined,
      };
      this.#byTransport.set(transport, destination);
    }
    destination.types.add(type);
    this.#byType.set(type, destination);
  }

  /** Of `types`, those whose destination may be claimed from now: not paused, breaker closed (or none). */
  claimable(types: readonly string[]): string[] {
    const now = this.#clock.now();
    const open = new Map<Destination, boolean>();
    return types.filter((type) => {
      const destination = this.#byType.get(type);
      if (!destination) return true;
      let free = open.get(destination);
      if (free === undefined) {
        this.#refresh(destination);
        free = destination.pause.until(now) === undefined && (destination.breaker?.state ?? 'closed') === 'closed';
        open.set(destination, free);
      }
      return free;
    });
  }

  /** True when every message's destination may be sent to now (the after-commit path claims them at insert only then). */
  allClaimable(messages: readonly { type: string }[]): boolean {
    if (this.#byTransport.size === 0) return true;
    const types = [...new Set(messages.map((m) => m.type))];
    return this.claimable(types).length === types.length;
  }

  /**
   * The destinations whose breaker is half-open and waits for a probe, not
   * paused, with no probe claim running: claim one message of `types` for
   * each, then call `done()` whatever the claim returned.
   */
  probeClaims(): Array<{ destination: string; types: string[]; done(): void }> {
    const now = this.#clock.now();
    const claims: Array<{ destination: string; types: string[]; done(): void }> = [];
    for (const destination of this.#byTransport.values()) {
      this.#refresh(destination);
      if (!destination.breaker?.wantsProbe || destination.probeClaiming || destination.pause.until(now) !== undefined || destination.types.size === 0) continue;
      destination.probeClaiming = true;
      claims.push({ destination: destination.name, types: [...destination.types], done: () => void (destination.probeClaiming = false) });
    }
    return claims;
  }

  /** How many of `count` messages to `transport` may be sent now (all; one, as the probe; or none), with the ticket to {@link record} their outcomes. */
  admit(transport: Transport, count: number): Admission {
    const destination = this.#byTransport.get(transport);
    if (!destination) return { admitted: count, ticket: undefined };
    const pausedUntil = destination.pause.until(this.#clock.now());
    if (pausedUntil !== undefined) return { admitted: 0, ticket: undefined, reason: `paused by a busy answer until ${new Date(pausedUntil).toISOString()}` };
    if (!destination.breaker) return { admitted: count, ticket: undefined };
    const before = destination.breaker.state;
    const ticket = destination.breaker.admit();
    if (before === 'open' && destination.breaker.state === 'half-open') this.#announce(destination, { from: 'open', to: 'half-open', consecutiveFailures: destination.breaker.consecutiveFailures }, undefined);
    if (!ticket) return { admitted: 0, ticket: undefined, reason: `its circuit breaker is ${destination.breaker.state}` };
    return { admitted: ticket.probe ? Math.min(1, count) : count, ticket, ...(ticket.probe && count > 1 ? { reason: 'its circuit breaker is half-open: one message goes as the probe' } : {}) };
  }

  /**
   * Records the outcomes of an attempt admitted with `ticket` (one per
   * message; `undefined` for delivered): a busy answer pauses the
   * destination, and the verdict feeds its breaker.
   */
  record(transport: Transport, ticket: BreakerTicket | undefined, outcomes: readonly unknown[]): void {
    const destination = this.#byTransport.get(transport);
    if (!destination) return;
    const { verdict, busy } = judgeAttempt(outcomes);
    if (busy) this.#pause(destination, busy.retryAfterMs ?? DEFAULT_BUSY_PAUSE_MS, describeError(busy));
    if (!ticket || !destination.breaker) return;
    const failure = verdict === 'failure' ? outcomes.find((o) => o !== undefined) : undefined;
    const transition = destination.breaker.record(ticket, verdict);
    if (transition) this.#announce(destination, transition, failure === undefined ? undefined : describeError(failure, 500));
  }

  /** Gives a ticket back unused (nothing was sent: leases lost, shutdown): a probe slot is freed. */
  release(transport: Transport, ticket: BreakerTicket | undefined): void {
    const destination = this.#byTransport.get(transport);
    if (ticket && destination?.breaker) destination.breaker.record(ticket, 'neutral');
  }

  /** Every destination's state now. */
  snapshot(): DestinationState[] {
    const now = this.#clock.now();
    return [...this.#byTransport.values()].map((destination) => {
      this.#refresh(destination);
      return this.#stateOf(destination, now);
    });
  }

  #stateOf(destination: Destination, now: number): DestinationState {
    const openUntil = destination.breaker?.openUntil;
    const pausedUntil = destination.pause.until(now);
    return {
      destination: destination.name,
      types: [...destination.types],
      breaker: destination.breaker?.state ?? 'disabled',
      consecutiveFailures: destination.breaker?.consecutiveFailures ?? 0,
      openUntil: openUntil === undefined ? null : new Date(openUntil),
      pausedUntil: pausedUntil === undefined ? null : new Date(pausedUntil),
    };
  }

  /** Clears the timers (the outbox stopped). */
  stop(): void {
    for (const destination of this.#byTransport.values()) {
      clearTimeout(destination.timer);
      destination.timer = undefined;
    }
  }

  #pause(destination: Destination, askedMs: number, error: string): void {
    const now = this.#clock.now();
    const pauseMs = destination.pause.pause(askedMs, now);
    if (pauseMs === undefined) return;
    this.#logger.warn({ destination: destination.name, pauseMs, askedMs, error }, `destination "${destination.name}" is busy: pausing every message to it for ${pauseMs} ms`);
    this.#onPause({ destination: destination.name, pauseMs, until: new Date(now + pauseMs), askedMs, error });
    this.#onChange(this.#stateOf(destination, now));
    this.#arm(destination);
  }

  /** Moves an open breaker whose time is up to half-open, announcing it. */
  #refresh(destination: Destination): void {
    const transition = destination.breaker?.refresh();
    if (transition) this.#announce(destination, transition, undefined);
  }

  #announce(destination: Destination, transition: BreakerTransition, error: string | undefined): void {
    const { from, to, consecutiveFailures, openMs, until } = transition;
    const event: BreakerEvent = {
      destination: destination.name,
      state: to,
      previous: from,
      consecutiveFailures,
      ...(openMs === undefined ? {} : { openMs }),
      ...(until === undefined ? {} : { until: new Date(until) }),
      ...(error === undefined ? {} : { error }),
    };
    const fields = { destination: destination.name, state: to, previous: from, consecutiveFailures, ...(openMs === undefined ? {} : { openMs }), ...(error ? { error } : {}) };
    if (to === 'open') this.#logger.warn(fields, `circuit breaker of destination "${destination.name}" opened: no messages are claimed for it for ${openMs} ms`);
    else if (to === 'half-open') this.#logger.info(fields, `circuit breaker of destination "${destination.name}" is half-open: one message goes as a probe`);
    else this.#logger.info(fields, `circuit breaker of destination "${destination.name}" closed: messages flow again`);
    this.#onBreaker(event);
    this.#onChange(this.#stateOf(destination, this.#clock.now()));
    if (to === 'open') this.#arm(destination);
    else this.#wake(); // half-open: claim the probe; closed: claim the destination's messages again
  }

  /** One timer per destination, for the earliest of its pause's end and its breaker's probe time; wakes the worker then. */
  #arm(destination: Destination): void {
    clearTimeout(destination.timer);
    const now = this.#clock.now();
    const times = [destination.pause.until(now), destination.breaker?.openUntil].filter((t): t is number => t !== undefined);
    if (!times.length) return;
    const at = Math.min(...times);
    destination.timer = setTimeout(() => {
      destination.timer = undefined;
      this.#refresh(destination);
      if (destination.pause.until(this.#clock.now()) !== undefined || destination.breaker?.state === 'open') this.#arm(destination);
      this.#wake();
    }, Math.max(0, at - now) + 1);
    (destination.timer as { unref?: () => void }).unref?.();
  }

  #uniqueName(name: string): string {
    let unique = name;
    for (let n = 2; this.#names.has(unique); n++) unique = `${name}#${n}`;
    this.#names.add(unique);
    return unique;
  }
}

function sameBreaker(a: ResolvedBreakerOptions | undefined, b: ResolvedBreakerOptions | undefined): boolean {
  if (!a || !b) return a === b;
  return a.failureThreshold === b.failureThreshold && a.openMs === b.openMs && a.maxOpenMs === b.maxOpenMs;
}

function describeBreaker(options: ResolvedBreakerOptions | undefined): string {
  return options ? `failureThreshold ${options.failureThreshold}, openMs ${options.openMs}, maxOpenMs ${options.maxOpenMs}` : 'none';
}
