import type { InboxEntry, InboxStore } from '../ports/inbox-store.js';

/** Takes the claim off entries that must step aside for their key's order (see `inReceiveOrder`); `aside[i]` marks them. */
export type ReceiveOrder<Tx> = (tx: Tx, entries: readonly InboxEntry[]) => Promise<{ entries: InboxEntry[]; aside: boolean[] }>;

/**
 * What a group-committed receive did: `created` (stored, with its claim when
 * it had one), `duplicate`, or `created-unclaimed`: stored by a batch whose
 * COMMIT reported a failure although it went through (found when the message
 * was received again on its own), stored unclaimed because an earlier
 * message of its ordering key is still unprocessed, or stored unclaimed
 * because the after-commit queue had no place for it; its claim was given
 * back (or never taken), so the worker, not the after-commit path, runs its handler.
 */
export type GroupReceiveOutcome = 'created' | 'duplicate' | 'created-unclaimed';

/** A group-committed receive's answer, with the after-commit place its claimed row holds (see {@link TakePlace}): call `place` once the row was submitted (or when there is nothing to submit). */
export interface GroupReceipt {
  outcome: GroupReceiveOutcome;
  place?: () => void;
}

/**
 * Takes a place in the after-commit queue for one row a batch is about to
 * write claimed (`WorkRunner.reserve(1)`), or undefined when the queue has
 * no room: that entry is then written unclaimed, for the worker.
 */
export type TakePlace = () => (() => void) | undefined;

interface Waiting {
  entry: InboxEntry;
  place?: () => void;
  /** Its claim was dropped for want of a place: stored for the worker. */
  unplaced?: boolean;
  resolve: (receipt: GroupReceipt) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of concurrent receives: one transaction and one
 * `receiveMany` (a multi-row insert-if-absent) for every receive that
 * arrived while the previous batch was being committed; with the store's
 * `receiveManyCommitted`, that one statement alone (no BEGIN and COMMIT),
 * unless the batch holds keyed messages whose order must be checked in the
 * transaction of their insert.
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
 *
 * An entry that carries a claim takes its place in the after-commit queue
 * (`takePlace`) when its batch is taken from the queue, not when it was
 * queued: receives waiting behind the batch being committed hold no place,
 * so under load they do not make the queue look full while the handlers
 * keep up. One that gets no place is written unclaimed (`created-unclaimed`).
 *
 * A failed COMMIT can be ambiguous (the connection broke after the database
 * committed): the retry then finds the batch's rows stored. A message that
 * was written claimed is recognised by its claim token: giving that claim
 * back applies only to the row this batch wrote, so such a message is
 * answered `created` (`created-unclaimed`), not `duplicate`. One written
 * unclaimed (the after-commit queue was full) cannot be told from a real
 * duplicate and is answered `duplicate`; its row, stored, is handled by the
 * worker like any unclaimed row.
 */
export class GroupCommit<Tx> {
  readonly #store: InboxStore<Tx>;
  readonly #maxMessages: number;
  readonly #order: ReceiveOrder<Tx> | undefined;
  readonly #takePlace: TakePlace | undefined;
  #queue: Waiting[] = [];
  #committing = false;

  constructor(store: InboxStore<Tx>, maxMessages: number, options: { order?: ReceiveOrder<Tx>; takePlace?: TakePlace } = {}) {
    this.#store = store;
    this.#maxMessages = maxMessages;
    this.#order = options.order;
    this.#takePlace = options.takePlace;
  }

  /** Resolves once the message's batch committed: see {@link GroupReceipt}. */
  receive(entry: InboxEntry): Promise<GroupReceipt> {
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
    this.#placeAll(batch);
    let results: GroupReceiveOutcome[];
    try {
      results = await this.#receiveCommitted(batch.map((w) => w.entry));
    } catch (error) {
      if (batch.length === 1) return this.#reject(batch[0]!, error);
      await Promise.all(batch.map((w) => this.#receiveAlone(w.entry).then((outcome) => this.#resolve(w, outcome), (e: unknown) => this.#reject(w, e))));
      return;
    }
    batch.forEach((w, i) => this.#resolve(w, results[i]!));
  }

  /** Takes a place for each claimed entry, in order; one that gets none loses its claim and is written for the worker. */
  #placeAll(batch: Waiting[]): void {
    if (!this.#takePlace) return;
    for (const w of batch) {
      if (!w.entry.claim) continue;
      w.place = this.#takePlace();
      if (w.place) continue;
      w.entry = { message: w.entry.message };
      w.unplaced = true;
    }
  }

  /** The caller gives a place back once its row was submitted, or at once when there is nothing to submit (a duplicate, a row written unclaimed). */
  #resolve(w: Waiting, outcome: GroupReceiveOutcome): void {
    const answered = w.unplaced && outcome === 'created' ? 'created-unclaimed' : outcome;
    w.resolve(w.place ? { outcome: answered, place: w.place } : { outcome: answered });
  }

  #reject(w: Waiting, error: unknown): void {
    w.place?.();
    w.reject(error);
  }

  /** Receives one message of a failed batch again; a "duplicate" that carries its own claim was stored by that batch after all. */
  async #receiveAlone(entry: InboxEntry): Promise<GroupReceiveOutcome> {
    const [outcome] = await this.#receiveCommitted([entry]);
    if (outcome !== 'duplicate') return outcome!;
    if (!entry.claim) return 'duplicate';
    const { source, id } = entry.message;
    return (await this.#store.release([{ source, id, token: entry.claim.token }])) > 0 ? 'created-unclaimed' : 'duplicate';
  }

  /**
   * The entries received in a transaction of their own: `receiveManyCommitted`
   * (one statement on SQL stores) when the store has it and no entry's key
   * order needs checking beside its insert.
   */
  async #receiveCommitted(given: readonly InboxEntry[]): Promise<GroupReceiveOutcome[]> {
    const store = this.#store;
    if (store.receiveManyCommitted && !(this.#order && given.some((entry) => entry.message.key !== undefined))) {
      return (await store.receiveManyCommitted(given)).map((isNew) => (isNew ? 'created' : 'duplicate'));
    }
    return store.transaction((tx) => this.#receiveAll(tx, given));
  }

  async #receiveAll(tx: Tx, given: readonly InboxEntry[]): Promise<GroupReceiveOutcome[]> {
    const store = this.#store;
    const { entries, aside } = this.#order ? await this.#order(tx, given) : { entries: given, aside: undefined };
    let results: boolean[];
    if (store.receiveMany) results = await store.receiveMany(tx, entries);
    else {
      results = [];
      for (const { message, claim } of entries) results.push(await store.receive(tx, message, claim ? { claim } : {}));
    }
    return results.map((isNew, i) => (!isNew ? 'duplicate' : aside?.[i] ? 'created-unclaimed' : 'created'));
  }
}

/** Resolves after the I/O callbacks of the current event-loop turn (setImmediate where the runtime has it). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
