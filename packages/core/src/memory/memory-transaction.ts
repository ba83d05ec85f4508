import { MessageboxError } from '../errors.js';

/**
 * The transaction handle of the in-memory stores. Writes are staged and
 * applied together at commit; nothing is applied on rollback. Transactions
 * of one {@link MemoryDatabase} run one at a time.
 */
export class MemoryTransaction {
  /** @internal */ readonly staged: Array<() => void> = [];
  /** @internal Run before any staged write; one that throws rolls the whole transaction back. */
  readonly checks: Array<() => void> = [];
  /** @internal */ readonly stagedIds = new Set<string>();
  /** @internal */ done = false;

  /** Stages a write of your own to be applied at commit (to mimic business writes in tests). */
  onCommit(apply: () => void): void {
    if (this.done) throw new MessageboxError('invalid_options', 'this memory transaction has already ended');
    this.staged.push(apply);
  }
}

/** Serialises transactions and applies staged writes at commit. */
export class MemoryDatabase {
  #tail: Promise<unknown> = Promise.resolve();

  transaction<T>(fn: (tx: MemoryTransaction) => Promise<T>): Promise<T> {
    const run = async () => {
      const tx = new MemoryTransaction();
      try {
        const result = await fn(tx);
        for (const check of tx.checks) check();
        for (const apply of tx.staged) apply();
        return result;
      } finally {
        tx.done = true;
      }
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
