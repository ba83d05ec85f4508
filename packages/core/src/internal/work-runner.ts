import { nodeBuiltin } from './node-builtin.js';
import pLimit from 'p-limit';
import { describeError } from '../errors.js';
import type { Logger } from '../ports/logger.js';
import { settlesWithin } from './settles-within.js';

/** Work left after an attempt, run without holding a concurrency slot. */
export type FollowUp = () => Promise<void>;

/** What a {@link WorkRunner} needs from its service (outbox or inbox). */
export interface WorkSource<Item> {
  /** Claims up to `limit` due items. */
  claim(limit: number): Promise<Item[]>;
  /**
   * Processes one claimed item; never rejects for a failed delivery (the
   * service settles those itself). It may resolve with a follow-up (recording
   * the outcome): that runs outside the concurrency bound, so the slot is
   * free for the next attempt while outcomes are written in batches; the item
   * counts as done (`process`, `idle`, `stop`) only once its follow-up finished.
   */
  process(item: Item, signal: AbortSignal): Promise<void | FollowUp>;
  /** Gives back claimed items that will not be processed (shutdown, overload). */
  release(items: readonly Item[]): Promise<void>;
  /** How many claimed rows an item holds (the outbox: a batch of messages). Default 1. */
  size?(item: Item): number;
}

export interface WorkRunnerOptions {
  name: string;
  batchSize: number;
  concurrency: number;
  pollIntervalMs: number;
  /**
   * Most claimed rows waiting for a free slot (a batch counts its rows); what
   * the after-commit path submits beyond is given back to the store (one
   * release call for all that overflow meanwhile) and the worker loop is
   * woken to claim it.
   */
  maxQueued: number;
  logger: Logger;
}

/**
 * The engine shared by outbox and inbox: claims batches, processes them with
 * bounded concurrency, runs items handed over right after commit, and loops
 * as a worker that wakes on a signal or the poll interval. The loop claims
 * its next batch as soon as fewer than `concurrency` items wait for a slot
 * (see {@link WorkRunner.ready}), not only after the whole batch finished.
 */
export class WorkRunner<Item> {
  readonly #source: WorkSource<Item>;
  readonly #options: WorkRunnerOptions;
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Items waiting for a free slot; `stop()` takes them back when it gives up waiting. */
  readonly #queued = new Set<{ item: Item; rows: number }>();
  /** Rows of the items in {@link #queued}: what `maxQueued` bounds. */
  #queuedRows = 0;
  #abort = sharedAbortController();
  #running = false;
  /** Bumped by every start(), so a loop left over from a timed-out stop() exits instead of running beside the new one. */
  #generation = 0;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  /** After-commit items that found the queue full, waiting to be given back together. */
  #overflow: Item[] = [];
  #releasing = false;
  /** Overflowed items not yet reported in the log (one summarised line per interval). */
  #unreported = 0;
  #overflowLog: ReturnType<typeof setTimeout> | undefined;
  #readyWaiters: Array<() => void> = [];

  constructor(source: WorkSource<Item>, options: WorkRunnerOptions) {
    this.#source = source;
    this.#options = options;
    this.#limit = pLimit({ concurrency: options.concurrency, rejectOnClear: true });
  }

  get running(): boolean {
    return this.#running;
  }

  /** Most rows one claim asks for. */
  get batchSize(): number {
    return this.#options.batchSize;
  }

  /** Claims and processes one batch; resolves with how many items were claimed. */
  async runBatch(): Promise<number> {
    const items = await this.#source.claim(this.#options.batchSize);
    await this.process(items);
    return this.#rows(items);
  }

  /**
   * Resolves once fewer than `concurrency` items wait for a slot: the moment
   * to claim the next batch so that slots never run dry between batches,
   * while claimed items queue for no longer than one batch's worth.
   */
  ready(): Promise<void> {
    if (this.#queued.size < this.#options.concurrency) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Processes claimed items with the shared concurrency bound; resolves when all are done. */
  async process(items: readonly Item[]): Promise<void> {
    await Promise.all(items.map((item) => this.#enqueue(item)));
  }

  /** Items running in a slot or waiting for one (not counting follow-ups). */
  get busy(): number {
    return this.#limit.activeCount + this.#limit.pendingCount;
  }

  /** True while the after-commit queue has room, so work written now will be taken by {@link submit}. */
  get hasRoom(): boolean {
    return this.#waitingRows() + this.#reserved < this.#options.maxQueued;
  }

  /** Rows promised a place in the after-commit queue (see {@link reserve}). */
  #reserved = 0;

  /**
   * Takes a place in the after-commit queue for `rows` about to be written
   * claimed and {@link submit}ted once committed, or undefined when there is
   * no room: concurrent writers then see the queue as full while their rows
   * are being committed, instead of all finding room and overflowing it
   * together (which gives rows back with an extra statement, to be claimed
   * again). Call the returned function once the rows were submitted, or when
   * the write failed.
   */
  reserve(rows: number): (() => void) | undefined {
    // More rows than the whole queue holds never get places: written unclaimed, they are the workers' (of every process), not one process's queue.
    if (rows > this.#options.maxQueued) return undefined;
    const taken = this.#waitingRows() + this.#reserved;
    if (taken > 0 && taken + rows > this.#options.maxQueued) return undefined;
    return this.hold(rows);
  }

  /** Counts `rows` as taking places in the after-commit queue until the returned function is called (once); no check of room. */
  hold(rows: number): () => void {
    this.#reserved += rows;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#reserved -= rows;
    };
  }

  /** Rows of the items waiting for a slot, not counting those the limiter has already let through (about to run). */
  #waitingRows(): number {
    let starting = this.#queued.size - this.#limit.pendingCount;
    let rows = this.#queuedRows;
    for (const entry of this.#queued) {
      if (starting-- <= 0) break;
      rows -= entry.rows;
    }
    return rows;
  }

  /**
   * Processes items already claimed (right after commit) without waiting for
   * a poll. What does not fit in the queue is given back to the store and
   * left to the worker loop, which is woken once the release is written.
   * `placed`: the items' places were taken with {@link reserve} (or
   * {@link hold}) before their rows were written, so they fit whatever the
   * worker loop claimed meanwhile (reservations never exceed `maxQueued`,
   * so the queue runs over it by at most the worker's claims) and none is
   * given back.
   */
  submit(items: readonly Item[], options: { placed?: boolean } = {}): void {
    let fits = 0;
    // In order: items fit while their rows do (one item always fits into an empty queue, however large).
    for (const item of items) {
      const waiting = this.#waitingRows();
      if (!options.placed && waiting > 0 && waiting + this.#rows([item]) > this.#options.maxQueued) break;
      void this.#enqueue(item);
      fits++;
    }
    const overflow = items.slice(fits);
    if (overflow.length === 0) return;
    this.#overflow.push(...overflow);
    this.#noteOverflow(overflow.length);
    if (!this.#releasing) {
      this.#releasing = true;
      void this.#track(this.#releaseOverflow());
    }
  }

  /** Resolves once everything submitted or claimed so far is processed. */
  async idle(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }

  /** Starts the worker loop. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run(++this.#generation);
  }

  /** Makes a sleeping worker loop claim now. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Stops claiming and waits up to `timeoutMs` for work in flight. When time
   * is up: items still waiting for a slot are released untouched, running
   * attempts are aborted and get up to `min(timeoutMs, 1 s)` more to record
   * their outcome (one that ignores the signal is left running; its lease
   * expires and the message is retried). Resolves true when everything
   * finished in time. Work started after `stop()` gets a fresh signal.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.#running = false;
    this.#wake?.();
    const finished = (async () => {
      await this.#loop;
      await this.idle();
    })();
    if (await settlesWithin(finished, timeoutMs)) return true;
    const abort = this.#abort;
    this.#abort = sharedAbortController();
    abort.abort(new Error(`[messagebox] ${this.#options.name} worker stopped before this attempt finished`));
    this.#limit.clearQueue();
    const waiting = [...this.#queued].map((entry) => entry.item);
    this.#queued.clear();
    this.#queuedRows = 0;
    this.#checkReady();
    const grace = Math.min(timeoutMs, ABORT_GRACE_MS);
    if (waiting.length) {
      // Bounded: a store that hangs must not hold stop() forever; rows not given back are retried once their lease runs out.
      const released = this.#source.release(waiting).catch((error) => this.#logFailure('release', error));
      if (!(await settlesWithin(released, grace))) {
        this.#options.logger.warn(
          { runner: this.#options.name, rows: this.#rows(waiting), waitedMs: grace },
          `${this.#options.name}: giving back the messages still waiting did not finish in time; they are retried once their lease runs out`,
        );
      }
    }
    await settlesWithin(finished, grace);
    return false;
  }

  /** Gives overflowed items back in as few calls as possible (one in flight; what overflows meanwhile goes in the next), then wakes the loop. */
  async #releaseOverflow(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#overflow.length) {
      const batch = this.#overflow.splice(0, RELEASE_BATCH);
      await this.#releaseWithRetries(batch);
      this.wake();
    }
    this.#releasing = false;
  }

  /**
   * One release call, retried a few times with a growing pause (a busy or
   * briefly unreachable store): a release that is dropped leaves its rows
   * claimed until their lease runs out, a stall of a whole lease for them.
   */
  async #releaseWithRetries(batch: readonly Item[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#source.release(batch);
        return;
      } catch (error) {
        if (attempt >= RELEASE_ATTEMPTS) {
          this.#options.logger.error(
            { runner: this.#options.name, stage: 'release', rows: this.#rows(batch), attempts: attempt, error: describeError(error) },
            `${this.#options.name}: giving back overflowed messages failed ${attempt} times; they are retried once their lease runs out`,
          );
          return;
        }
        this.#logFailure('release', error);
        await new Promise((resolve) => setTimeout(resolve, RELEASE_RETRY_MS * 2 ** (attempt - 1)));
      }
    }
  }

  #noteOverflow(count: number): void {
    this.#unreported += count;
    if (!this.#overflowLog) this.#reportOverflow();
  }

  #reportOverflow(): void {
    const count = this.#unreported;
    this.#unreported = 0;
    this.#overflowLog = undefined;
    if (count === 0) return;
    this.#options.logger.warn(
      { runner: this.#options.name, count, maxQueued: this.#options.maxQueued, intervalMs: OVERFLOW_LOG_INTERVAL_MS },
      `${this.#options.name}: after-commit queue is full; left ${count} message(s) to the workers (one line per interval)`,
    );
    this.#overflowLog = setTimeout(() => this.#reportOverflow(), OVERFLOW_LOG_INTERVAL_MS);
    (this.#overflowLog as { unref?: () => void }).unref?.();
  }

  async #run(generation: number): Promise<void> {
    const live = () => this.#running && generation === this.#generation;
    while (live()) {
      if (this.#queued.size >= this.#options.concurrency) {
        await this.ready();
        if (!live()) break;
      }
      let claimed = 0;
      try {
        const items = await this.#source.claim(this.#options.batchSize);
        claimed = this.#rows(items);
        void this.process(items);
      } catch (error) {
        this.#logFailure('claim', error);
      }
      if (!live()) break;
      if (claimed >= this.#options.batchSize) continue;
      await this.#sleep(this.#options.pollIntervalMs);
    }
  }

  #rows(items: readonly Item[]): number {
    if (!this.#source.size) return items.length;
    let rows = 0;
    for (const item of items) rows += this.#source.size(item);
    return rows;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === wake) this.#wake = undefined;
        resolve();
      };
      const wake = () => {
        this.#woken = false;
        done();
      };
      const timer = setTimeout(done, ms);
      this.#wake = wake;
    });
  }

  /** Runs `item` when a slot is free; never rejects. */
  #enqueue(item: Item): Promise<void> {
    const entry = { item, rows: this.#rows([item]) };
    this.#queued.add(entry);
    this.#queuedRows += entry.rows;
    const run = () => {
      if (!this.#queued.delete(entry)) return Promise.resolve(undefined);
      this.#queuedRows -= entry.rows;
      this.#checkReady();
      return this.#process(item);
    };
    // A rejection means stop() cleared the queue; it released the item itself.
    return this.#track(
      this.#limit(run)
        .catch(() => undefined)
        .then((followUp) => (followUp ? this.#followUp(followUp) : undefined)),
    );
  }

  async #followUp(followUp: FollowUp): Promise<void> {
    try {
      await followUp();
    } catch (error) {
      this.#logFailure('process', error);
    }
  }

  #checkReady(): void {
    if (this.#queued.size >= this.#options.concurrency || this.#readyWaiters.length === 0) return;
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
  }

  async #process(item: Item): Promise<void | FollowUp> {
    try {
      return await this.#source.process(item, this.#abort.signal);
    } catch (error) {
      this.#logFailure('process', error);
      return undefined;
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    void promise.finally(() => this.#inFlight.delete(promise));
    return promise;
  }

  #logFailure(stage: string, error: unknown): void {
    this.#options.logger.error({ runner: this.#options.name, stage, error: describeError(error) }, `${this.#options.name}: ${stage} failed; will retry`);
  }
}

const ABORT_GRACE_MS = 1_000;
/** Release calls for one batch of overflowed items before they are left to their lease, and the first pause between them (doubling). */
const RELEASE_ATTEMPTS = 5;
const RELEASE_RETRY_MS = 50;
/** Most overflowed items given back by one release call. */
const RELEASE_BATCH = 1_000;
/** At most one overflow log line per this interval. */
const OVERFLOW_LOG_INTERVAL_MS = 10_000;

/** One signal shared by every attempt in flight: each may listen to it, so lift Node's listener warning (where there is one). */
function sharedAbortController(): AbortController {
  const controller = new AbortController();
  nodeBuiltin<typeof import('node:events')>('node:events')?.setMaxListeners(0, controller.signal);
  return controller;
}
