import type { InboxEntry, InboxStore } from '../ports/inbox-store.js';

interface Waiting {
  entry: InboxEntry;
  resolve: (isNew: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of concurrent receives: one transaction and one
 * `receiveMany` (a multi-row insert-if-absent) for every receive that
 * arrived while the previous batch was being committed.
 *
 * A small state machine: idle until a receive arrives; it starts a batch at
 * the end of the current event-loop turn (`setImmediate`: no timer, so a
 * lone receive waits for nothing, while requests read in the same I/O turn —
 * the common case under load, and the only chance to batch on a database
 * whose commits are synchronous, like better-sqlite3 — share it). Receives that arrive
 * while a batch's transaction is in flight wait in the queue; when it
 * commits, the next batch takes up to `maxMessages` of them. Each caller is
 * answered only after the transaction holding its row committed.
 *
 * When a batch's transaction fails, its messages are received again one by
 * one, each in its own transaction, so one bad message (or a deadlock) can
 * only fail its own caller; nothing is answered until its row is durable.
 */
export class GroupCommit<Tx> {
  readonly #store: InboxStore<Tx>;
  readonly #maxMessages: number;
  #queue: Waiting[] = [];
  #committing = false;

  constructor(store: InboxStore<Tx>, maxMessages: number) {
    this.#store = store;
    this.#maxMessages = maxMessages;
  }

  /** Resolves true when the message was new, false for a duplicate, once its batch committed. */
  receive(entry: InboxEntry): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, resolve, reject });
      if (!this.#committing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#committing = true;
    try {
      await nextTurn(); // receives whose requests arrived in the same I/O turn as the first one join its batch
      while (this.#queue.length) await this.#commit(this.#queue.splice(0, this.#maxMessages));
    } finally {
      this.#committing = false;
    }
  }

  async #commit(batch: Waiting[]): Promise<void> {
    let results: boolean[];
    try {
      results = await this.#store.transaction((tx) => this.#receiveAll(tx, batch.map((w) => w.entry)));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      await Promise.all(batch.map((w) => this.#store.transaction((tx) => this.#receiveAll(tx, [w.entry])).then(([isNew]) => w.resolve(isNew!), w.reject)));
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  }

  async #receiveAll(tx: Tx, entries: readonly InboxEntry[]): Promise<boolean[]> {
    const store = this.#store;
    if (store.receiveMany) return store.receiveMany(tx, entries);
    const results: boolean[] = [];
    for (const { message, claim } of entries) results.push(await store.receive(tx, message, claim ? { claim } : {}));
    return results;
  }
}

/** Resolves after the I/O callbacks of the current event-loop turn (setImmediate where the runtime has it). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
