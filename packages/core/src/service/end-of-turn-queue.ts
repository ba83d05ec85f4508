/**
 * Collects items until the end of the current turn of the event loop
 * (`setImmediate`), then hands them all to `flush` at once: what commits in
 * the same turn (transactions, group-committed receives) is batched together.
 */
export class EndOfTurnQueue<T> {
  readonly #flush: (items: T[]) => void;
  #items: T[] = [];
  #pending: Promise<void> | undefined;

  constructor(flush: (items: T[]) => void) {
    this.#flush = flush;
  }

  push(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#items.push(...items);
    this.#pending ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#pending = undefined;
        this.#flush(this.#items.splice(0));
        resolve();
      }),
    );
  }

  /** Resolves once nothing waits for the end of a turn (items pushed meanwhile included). */
  async settled(): Promise<void> {
    while (this.#pending) await this.#pending;
  }
}
