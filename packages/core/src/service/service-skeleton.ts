import type { PeriodicTask } from '../internal/periodic-task.js';
import { settlesWithin } from '../internal/settles-within.js';
import { WorkRunner, type FollowUp, type WorkRunnerOptions } from '../internal/work-runner.js';
import { EndOfTurnQueue } from './end-of-turn-queue.js';
import { groupBatches, type BatchRule, type WorkBatch } from './work-batch.js';

/** What a service (outbox or inbox) plugs into the {@link ServiceSkeleton}. */
export interface ServiceParts<Row> {
  /** Claims up to `limit` due rows for the worker loop. */
  claim(limit: number): Promise<Row[]>;
  /** How a row may be batched with others; undefined: it runs alone. */
  batchRule(row: Row): BatchRule | undefined;
  /** Size of a row for a rule's `maxBytes`. */
  bytesOf?(row: Row): number;
  /** Runs one work batch; as `WorkSource.process`. */
  process(batch: WorkBatch<Row>, signal: AbortSignal): Promise<void | FollowUp>;
  /** Gives claimed rows back untouched (shutdown, overflow). */
  release(rows: readonly Row[]): Promise<void>;
}

/** One claim pass: `claim` (default: the worker's) batch after batch, until a claim comes back short, `maxMessages` rows were claimed, or `proceed()` says stop. */
export interface PassOptions<Row> {
  claim?: (limit: number) => Promise<Row[]>;
  maxMessages?: number;
  /** Checked before every claim; false ends the pass. */
  proceed?: () => boolean;
}

/**
 * The skeleton both services run on: the work runner (claims, bounded
 * concurrency, after-commit submissions, the worker loop), rows grouped into
 * work batches, fresh rows of batchable kinds gathered until the end of the
 * event-loop turn, one-off claim passes (`resendUnsentMessages`,
 * `processDue`), the retention task and the start/stop/idle lifecycle.
 */
export class ServiceSkeleton<Row> {
  readonly runner: WorkRunner<WorkBatch<Row>>;
  readonly #parts: ServiceParts<Row>;
  readonly #purger: PeriodicTask | undefined;
  readonly #fresh: EndOfTurnQueue<Row>;
  /** Places in the after-commit queue held by the rows waiting in {@link #fresh} for the end of the turn. */
  readonly #freshPlaces: (() => void)[] = [];

  constructor(parts: ServiceParts<Row>, options: WorkRunnerOptions & { purger?: PeriodicTask | undefined }) {
    this.#parts = parts;
    this.#purger = options.purger;
    this.runner = new WorkRunner<WorkBatch<Row>>(
      {
        claim: async (limit) => this.batches(await parts.claim(limit)),
        process: (batch, signal) => parts.process(batch, signal),
        release: (batches) => parts.release(batches.flatMap((batch) => batch.rows)),
        size: (batch) => batch.rows.length,
      },
      options,
    );
    this.#fresh = new EndOfTurnQueue((rows) => {
      // Their places in the queue were held since submitFresh: given up now that the rows are in it.
      for (const release of this.#freshPlaces.splice(0)) release();
      this.runner.submit(this.batches(rows), { placed: true });
    });
  }

  /** Claimed rows as the runner's units of work. */
  batches(rows: readonly Row[]): WorkBatch<Row>[] {
    return groupBatches(rows, (row) => this.#parts.batchRule(row), this.#parts.bytesOf && ((row) => this.#parts.bytesOf!(row)));
  }

  /**
   * Hands rows written already claimed (right after commit) to the runner:
   * those that run alone at once, the batchable ones at the end of this
   * turn of the event loop, so that rows committed together share batches.
   * Their writers held places in the after-commit queue for them
   * (`WorkRunner.reserve`), so they are never given back as overflow.
   */
  submitFresh(rows: readonly Row[]): void {
    const alone = rows.filter((row) => !this.#parts.batchRule(row));
    if (alone.length) this.runner.submit(this.batches(alone), { placed: true });
    if (alone.length === rows.length) return;
    const batchable = rows.filter((row) => this.#parts.batchRule(row));
    this.#freshPlaces.push(this.runner.hold(batchable.length)); // counted as queued until the end of the turn, so hasRoom stays true to them
    this.#fresh.push(batchable);
  }

  /**
   * Runs claim loops whose batches overlap: `run(rows)` starts a batch and
   * resolves once the runner is ready for the next claim (see
   * `WorkRunner.ready`), so slots do not run dry between batches. Resolves
   * when every batch finished, also when a claim failed (then rejects).
   */
  async pipelined(loop: (run: (rows: readonly Row[]) => Promise<void>) => Promise<void>): Promise<void> {
    const running: Promise<void>[] = [];
    try {
      await loop(async (rows) => {
        running.push(this.runner.process(this.batches(rows)));
        await this.runner.ready();
      });
    } finally {
      await Promise.all(running);
    }
  }

  /** One pass over every due row (see {@link PassOptions}); resolves with how many rows it claimed, once all are done. */
  async pass(options: PassOptions<Row> = {}): Promise<number> {
    const claim = options.claim ?? ((limit: number) => this.#parts.claim(limit));
    const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
    const batchSize = this.runner.batchSize;
    let claimed = 0;
    await this.pipelined(async (run) => {
      for (;;) {
        const limit = Math.min(batchSize, maxMessages - claimed);
        if (limit <= 0 || options.proceed?.() === false) break;
        const rows = await claim(limit);
        claimed += rows.length;
        await run(rows);
        if (rows.length < limit) break;
      }
    });
    return claimed;
  }

  /** Starts the worker loop and the retention task. */
  start(): void {
    this.runner.start();
    this.#purger?.start();
  }

  /**
   * Stops the worker loop (see `WorkRunner.stop`) and the retention task
   * (a purge still running after `timeoutMs` is left to finish on its own);
   * true when all work finished within `timeoutMs`.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    await this.#fresh.settled();
    const [inTime] = await Promise.all([this.runner.stop(timeoutMs), this.#purger && settlesWithin(this.#purger.stop(), timeoutMs)]);
    return inTime;
  }

  /** Resolves when every row submitted or claimed so far is done. */
  async idle(): Promise<void> {
    await this.#fresh.settled();
    await this.runner.idle();
  }
}
