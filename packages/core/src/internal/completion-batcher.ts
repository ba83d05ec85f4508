import type { Claim } from '../ports/claim.js';

/**
 * Collects completions made in the same turn of the event loop and writes
 * them in one store call (e.g. one `UPDATE … WHERE id IN (…)`).
 */
export class CompletionBatcher {
  readonly #write: (claims: readonly Claim[]) => Promise<string[]>;
  #queue: Array<{ claim: Claim; resolve: (done: boolean) => void; reject: (error: unknown) => void }> = [];

  constructor(write: (claims: readonly Claim[]) => Promise<string[]>) {
    this.#write = write;
  }

  /** Resolves true when the claim was applied, false when it was fenced out. */
  complete(claim: Claim): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.#queue.push({ claim, resolve, reject }) === 1) setTimeout(() => void this.#flush(), 0);
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    try {
      const done = new Set(await this.#write(batch.map((entry) => entry.claim)));
      for (const entry of batch) entry.resolve(done.has(entry.claim.id));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }
}
