/** How a wait for a connection slot ended. */
export type GateOutcome = 'acquired' | 'timeout' | 'aborted' | 'closed';

interface Waiter {
  readonly deadline: number;
  settle(outcome: GateOutcome): void;
}

/**
 * A FIFO semaphore with one slot per pooled connection. A request takes a
 * slot before it reaches undici, so undici never queues it and its deadline
 * covers only the exchange with the receiver; the wait for a slot is bounded
 * on its own (`timeoutMs`) and ends early when `signal` aborts or the gate
 * closes. Every wait has the same bound, so deadlines expire in queue order
 * and one timer (armed for the oldest waiter) serves them all.
 */
export class ConnectionGate {
  #free: number;
  #closed = false;
  readonly #timeoutMs: number;
  readonly #waiting = new Set<Waiter>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(slots: number, timeoutMs: number) {
    this.#free = slots;
    this.#timeoutMs = timeoutMs;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Resolves `'acquired'` with a slot the caller must {@link release}; any other outcome holds none. */
  acquire(signal?: AbortSignal): Promise<GateOutcome> {
    if (this.#closed) return Promise.resolve('closed');
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.#free > 0 && this.#waiting.size === 0) {
      this.#free--;
      return Promise.resolve('acquired');
    }
    return new Promise((resolve) => {
      const onAbort = () => waiter.settle('aborted');
      const waiter: Waiter = {
        deadline: performance.now() + this.#timeoutMs,
        settle: (outcome) => {
          this.#waiting.delete(waiter);
          signal?.removeEventListener('abort', onAbort);
          if (this.#waiting.size === 0) this.#disarm();
          resolve(outcome);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.add(waiter);
      this.#arm();
    });
  }

  /** Gives a slot back; the longest waiter takes it. */
  release(): void {
    const next = this.#waiting.values().next();
    if (next.done) this.#free++;
    else next.value.settle('acquired');
  }

  /** Ends every wait with `'closed'`; later acquires resolve `'closed'` at once. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiting]) waiter.settle('closed');
  }

  #arm(): void {
    const head = this.#waiting.values().next();
    if (this.#timer !== undefined || head.done) return;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, Math.ceil(head.value.deadline - performance.now())));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const waiter of this.#waiting) {
      if (waiter.deadline > now) break;
      waiter.settle('timeout');
    }
    this.#arm();
  }
}
