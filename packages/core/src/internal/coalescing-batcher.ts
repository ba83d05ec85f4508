/**
 * Turns single requests into batched store calls with at most one call in
 * flight: requests made in the same turn of the event loop, and every request
 * made while a call is running, go into the next call (at most `maxBatch`
 * each). Under load the batch grows with the store's latency instead of the
 * number of statements growing with the load. With `windowMs`, a batch
 * that is not full waits until its oldest request is that old, so that
 * completions trickling in one by one still share a statement; but only
 * while `moreExpected()` (default: always) says other requests may still
 * join it. A lone request with nothing else in flight is written at once:
 * waiting could batch nothing, and only delays it (and, on an idle machine,
 * lets the processes on the path fall asleep between messages). An urgent
 * request (`run(item, { urgent: true })`) ends the wait: its batch is
 * written at once, with whatever has queued so far.
 *
 * `write` gets the batch and returns one result per item, in order; when it
 * rejects, every request of that batch rejects with its error.
 */
export class CoalescingBatcher<T, R> {
  readonly #write: (items: readonly T[]) => Promise<readonly R[]>;
  readonly #maxBatch: number;
  readonly #windowMs: number;
  readonly #moreExpected: () => boolean;
  #queue: Array<{ item: T; at: number; urgent: boolean; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  #busy = false;
  /** Ends the window's wait early (set while waiting). */
  #endWait: (() => void) | undefined;

  constructor(write: (items: readonly T[]) => Promise<readonly R[]>, options: { maxBatch: number; windowMs?: number; moreExpected?: () => boolean }) {
    this.#write = write;
    this.#maxBatch = Math.max(1, options.maxBatch);
    this.#windowMs = Math.max(0, options.windowMs ?? 0);
    this.#moreExpected = options.moreExpected ?? (() => true);
  }

  /** Queues `item` for the next write; with `urgent`, that write does not wait for the window. */
  run(item: T, options?: { urgent?: boolean }): Promise<R> {
    return new Promise((resolve, reject) => {
      const urgent = options?.urgent === true;
      this.#queue.push({ item, at: performance.now(), urgent, resolve, reject });
      if (urgent) this.#endWait?.();
      if (!this.#busy) {
        this.#busy = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length) {
      const wait = this.#queue[0]!.at + this.#windowMs - performance.now();
      if (this.#queue.length < this.#maxBatch && wait > 0 && this.#moreExpected() && !this.#queue.some((entry) => entry.urgent)) await this.#waitAtMost(wait);
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        const results = await this.#write(batch.map((entry) => entry.item));
        batch.forEach((entry, i) => entry.resolve(results[i] as R));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.#busy = false;
  }

  #waitAtMost(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#endWait = done;
    }).finally(() => (this.#endWait = undefined));
  }
}
