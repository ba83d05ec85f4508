import { describeError } from '../errors.js';
import type { Logger } from '../ports/logger.js';
import type { OutboxStore } from '../ports/outbox-store.js';
import type { DestinationState } from './flow-control.js';

/**
 * Writes each destination's state to the store (`saveDestinationState`)
 * when it changes, so that `messagebox status`, another process, can show
 * circuit breakers and pauses. Writes of one destination run in order, one
 * at a time; a failure is logged once (a store without the table of
 * migration `0006_destination_states`) and never disturbs sending.
 */
export class DestinationStateWriter {
  readonly #store: OutboxStore<unknown>;
  readonly #worker: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #chains = new Map<string, Promise<void>>();
  #warned = false;
  /** Whether this worker wrote a row since the last clear (nothing to delete otherwise). */
  #wrote = false;

  constructor(store: OutboxStore<unknown>, worker: string, logger: Logger, now: () => number) {
    this.#store = store;
    this.#worker = worker;
    this.#logger = logger;
    this.#now = now;
  }

  /** Queues a write of `state` (no-op for a store without `saveDestinationState`). */
  write(state: DestinationState): void {
    const save = this.#store.saveDestinationState;
    if (!save) return;
    const record = {
      destination: state.destination,
      worker: this.#worker,
      breaker: state.breaker,
      consecutiveFailures: state.consecutiveFailures,
      openUntil: state.openUntil,
      pausedUntil: state.pausedUntil,
      updatedAt: new Date(this.#now()),
    };
    this.#wrote = true;
    const previous = this.#chains.get(state.destination) ?? Promise.resolve();
    const next = previous.then(() => save.call(this.#store, record)).catch((error: unknown) => this.#failed(error));
    this.#chains.set(state.destination, next);
    void next.finally(() => {
      if (this.#chains.get(state.destination) === next) this.#chains.delete(state.destination);
    });
  }

  /** Waits for queued writes, then deletes this worker's rows (its outbox stopped), when it wrote any. */
  async clear(): Promise<void> {
    await Promise.all(this.#chains.values());
    if (!this.#wrote) return;
    this.#wrote = false;
    try {
      await this.#store.clearDestinationStates?.(this.#worker);
    } catch (error) {
      this.#failed(error);
    }
  }

  #failed(error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#logger.warn(
      { worker: this.#worker, error: describeError(error) },
      'could not record a destination state for `messagebox status` (is migration 0006_destination_states applied?); sending is not affected, this is logged once',
    );
  }
}
