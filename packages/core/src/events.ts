import { describeError } from './errors.js';
import type { Logger } from './ports/logger.js';

type Listener<E> = (event: E) => void;

/**
 * A small typed event emitter. Listeners run synchronously, in order; one
 * that throws is logged and does not disturb messaging or other listeners.
 *
 * @example
 * outbox.events.on('dead', ({ message, error }) => alert(message.id, error));
 */
export class Events<Map extends object> {
  readonly #listeners = new Map<keyof Map, Set<Listener<never>>>();
  readonly #logger: () => Logger;

  constructor(logger: () => Logger) {
    this.#logger = logger;
  }

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof Map>(name: K, listener: Listener<Map[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** True when someone listens to `name` (lets callers skip building an event). */
  has(name: keyof Map): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  emit<K extends keyof Map>(name: K, event: Map[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<Map[K]>)(event);
      } catch (error) {
        this.#logger().error({ event: String(name), error: describeError(error) }, 'an event listener threw');
      }
    }
  }
}
