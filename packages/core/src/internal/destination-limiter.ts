import { isTransportError, MessageboxError, TransportError } from '../errors.js';
import type { Transport } from '../ports/transport.js';

/** An attempt waiting for a slot. */
interface Waiter {
  readonly signal: AbortSignal;
  take(): void;
  giveUp(why: string): void;
}

const STOPPED = 'the worker stopped while this attempt waited for a free slot';

/**
 * Bounds the attempts in flight to one transport, with AIMD: the limit starts
 * at `max`; a send that fails with `TransportError.timedOut` halves it (at
 * most once per round: a timeout of a send started before the last decrease
 * does not count again), each success adds one back, up to `max`, never
 * below 1. A send waits for a free slot at most `maxWaitMs`; when that runs
 * out, or `signal` aborts first, it rejects with `notAttempted: true`
 * without calling the transport.
 */
export class DestinationLimiter {
  readonly max: number;
  #limit: number;
  #inFlight = 0;
  #round = 0;
  readonly #waiting = new Set<Waiter>();
  /** Signals this limiter listens to: one listener per signal (the worker's, shared by its attempts), not one per waiting attempt. */
  readonly #watched = new WeakSet<AbortSignal>();

  constructor(max: number) {
    this.max = max;
    this.#limit = max;
  }

  /** Attempts allowed at once right now (between 1 and `max`). */
  get limit(): number {
    return this.#limit;
  }

  async run<T>(fn: () => Promise<T>, options: { signal: AbortSignal; maxWaitMs: number; name: string }): Promise<T> {
    await this.#acquire(options);
    const round = this.#round;
    try {
      const result = await fn();
      this.#limit = Math.min(this.max, this.#limit + 1);
      return result;
    } catch (error) {
      if (isTransportError(error) && error.timedOut && round === this.#round) {
        this.#limit = Math.max(1, Math.floor(this.#limit / 2));
        this.#round++;
      }
      throw error;
    } finally {
      this.#inFlight--;
      this.#next();
    }
  }

  #acquire({ signal, maxWaitMs, name }: { signal: AbortSignal; maxWaitMs: number; name: string }): Promise<void> {
    if (this.#inFlight < this.#limit && this.#waiting.size === 0) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const settle = (error?: TransportError) => {
        this.#waiting.delete(waiter);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const waiter: Waiter = {
        signal,
        take: () => {
          this.#inFlight++;
          settle();
        },
        giveUp: (why) => settle(new TransportError(`[messagebox] transport "${name}": ${why}; the message was not sent and is given back`, { notAttempted: true })),
      };
      const timer = setTimeout(
        () => waiter.giveUp(`no slot free within ${maxWaitMs} ms (${this.#inFlight} attempts in flight, limit ${this.#limit} of ${this.max})`),
        maxWaitMs,
      );
      this.#waiting.add(waiter);
      if (signal.aborted) waiter.giveUp(STOPPED);
      else this.#watch(signal);
    });
  }

  /** Gives up every attempt waiting with `signal` once it aborts (one listener for all of them). */
  #watch(signal: AbortSignal): void {
    if (this.#watched.has(signal)) return;
    this.#watched.add(signal);
    signal.addEventListener(
      'abort',
      () => {
        for (const waiter of [...this.#waiting]) if (waiter.signal === signal) waiter.giveUp(STOPPED);
      },
      { once: true },
    );
  }

  #next(): void {
    for (const waiter of this.#waiting) {
      if (this.#inFlight >= this.#limit) return;
      waiter.take();
    }
  }
}

/**
 * One {@link DestinationLimiter} per transport, sized by its `maxConcurrency`
 * (or `fallback`, the outbox's own concurrency, when it declares none).
 */
export class DestinationLimiters {
  readonly #limiters = new WeakMap<Transport, DestinationLimiter>();
  readonly #fallback: number;
  readonly #maxWaitMs: number;

  constructor(options: { fallback: number; maxWaitMs: number }) {
    this.#fallback = options.fallback;
    this.#maxWaitMs = options.maxWaitMs;
  }

  /** Checks `maxConcurrency` and sets up the transport's limiter; throws `invalid_options` on a bad value. */
  add(transport: Transport): DestinationLimiter {
    const existing = this.#limiters.get(transport);
    if (existing) return existing;
    const max = transport.maxConcurrency ?? this.#fallback;
    if (!Number.isInteger(max) || max < 1) {
      throw new MessageboxError('invalid_options', `transport "${transport.name}": maxConcurrency must be a positive integer, got ${String(max)}`);
    }
    const limiter = new DestinationLimiter(max);
    this.#limiters.set(transport, limiter);
    return limiter;
  }

  /** Runs `fn` (one send to `transport`) when the transport's limiter has a slot. */
  run<T>(transport: Transport, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return this.add(transport).run(fn, { signal, maxWaitMs: this.#maxWaitMs, name: transport.name });
  }
}
