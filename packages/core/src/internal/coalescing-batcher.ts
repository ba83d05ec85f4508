/**
 * Turns single requests into batched store calls with at most one call in
 * flight: requests made in the same turn of the event loop, and every request
 * made while a call is running, go into the next call (at most `maxBatch`
 * each). Under load the batch grows with the store's latency instead of the
 * number of statements growing with the load.
 *
 * `write` gets the batch and returns one result per item, in order; when it
 * rejects, every request of that batch rejects with its error.
 */
export class CoalescingBatcher<T, R> {
  readonly #write: (items: readonly T[]) => Promise<readonly R[]>;
  readonly #maxBatch: number;
  #queue: Array<{ item: T; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  #busy = false;

  constructor(write: (items: readonly T[]) => Promise<readonly R[]>, options: { maxBatch: number }) {
    this.#write = write;
    this.#maxBatch = Math.max(1, options.maxBatch);
  }

  run(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#busy) {
        this.#busy = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length) {
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
}
