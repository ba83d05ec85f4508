/** How a wait for a connection slot ended. */
export type GateOutcome = 'acquired' | 'timeout' | 'aborted' | 'closed';

/**
 * A FIFO semaphore with one slot per pooled connection. A request takes a
 * slot before it reaches undici, so undici never queues it and its deadline
 * covers only the exchange with the receiver; the wait for a slot is bounded
 * on its own (`timeoutMs`) and ends early when `signal` aborts or the gate
 * closes.
 */
export class ConnectionGate {
  #free: number;
  #closed = false;
  readonly #waiting = new Set<(outcome: GateOutcome) => void>();

  constructor(slots: number) {
    this.#free = slots;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Resolves `'acquired'` with a slot the caller must {@link release}; any other outcome holds none. */
  acquire(timeoutMs: number, signal?: AbortSignal): Promise<GateOutcome> {
    if (this.#closed) return Promise.resolve('closed');
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.#free > 0 && this.#waiting.size === 0) {
      this.#free--;
      return Promise.resolve('acquired');
    }
    return new Promise((resolve) => {
      const settle = (outcome: GateOutcome) => {
        this.#waiting.delete(settle);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = () => settle('aborted');
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.add(settle);
    });
  }

  /** Gives a slot back; the longest waiter takes it. */
  release(): void {
    const next = this.#waiting.values().next();
    if (next.done) this.#free++;
    else next.value('acquired');
  }

  /** Ends every wait with `'closed'`; later acquires resolve `'closed'` at once. */
  close(): void {
    this.#closed = true;
    for (const settle of [...this.#waiting]) settle('closed');
  }
}
