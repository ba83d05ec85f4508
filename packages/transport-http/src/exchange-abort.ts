/**
 * The abort of one HTTP exchange, fired by its deadline or by the caller's
 * signal. An event-emitter-like object (what undici's `signal` option takes:
 * `aborted`, `reason`, `on`/`once`/`removeListener`) instead of an
 * `AbortController`, whose creation alone costs ~13 µs on Node 20 (the
 * transferable `AbortSignal`): as much as building and signing the request.
 * {@link toSignal} gives a real `AbortSignal` to engines that need one (fetch).
 */
export class ExchangeAbort {
  aborted = false;
  reason: unknown = undefined;
  #listeners: Array<() => void> | undefined;

  /** Calls `listener` once, when this aborts (`event` is always `'abort'`). */
  on(event: 'abort', listener: () => void): this {
    if (event === 'abort' && !this.aborted) (this.#listeners ??= []).push(listener);
    return this;
  }

  once(event: 'abort', listener: () => void): this {
    return this.on(event, listener);
  }

  removeListener(event: 'abort', listener: () => void): this {
    const listeners = this.#listeners;
    const at = event === 'abort' && listeners ? listeners.indexOf(listener) : -1;
    if (at >= 0) listeners!.splice(at, 1);
    return this;
  }

  off(event: 'abort', listener: () => void): this {
    return this.removeListener(event, listener);
  }

  /** Aborts with `reason` (the first call wins) and tells every listener. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    for (const listener of listeners ?? []) listener();
  }

  /** An `AbortSignal` that aborts with this (for `fetch`). */
  toSignal(): AbortSignal {
    const controller = new AbortController();
    if (this.aborted) controller.abort(this.reason);
    else this.on('abort', () => controller.abort(this.reason));
    return controller.signal;
  }
}

/**
 * Aborts the exchanges in flight when the signal they were started with
 * aborts: one listener per signal (the outbox worker passes one shared by all
 * its attempts), not one added and removed per request.
 */
export class AbortLinks {
  readonly #linked = new WeakMap<AbortSignal, Set<ExchangeAbort>>();

  /** Aborts `abort` when `signal` does (at once if it has); returns the unlink to call once the exchange ends. */
  link(signal: AbortSignal | undefined, abort: ExchangeAbort): () => void {
    if (!signal) return noop;
    if (signal.aborted) {
      abort.abort(signal.reason);
      return noop;
    }
    let linked = this.#linked.get(signal);
    if (!linked) {
      const set = new Set<ExchangeAbort>();
      linked = set;
      this.#linked.set(signal, set);
      signal.addEventListener('abort', () => {
        for (const each of [...set]) each.abort(signal.reason);
        set.clear();
      }, { once: true });
    }
    const set = linked;
    set.add(abort);
    return () => void set.delete(abort);
  }
}

const noop = () => {};
