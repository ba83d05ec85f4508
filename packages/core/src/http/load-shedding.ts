import { describeError, MessageboxError } from '../errors.js';
import type { Logger } from '../ports/logger.js';
import { InboxRequestError } from './inbox-request-error.js';

/**
 * Load shedding of the inbox endpoint (`createInboxRequestHandler(inbox, { shedLoad })`,
 * the same option in `@messagebox/hono` and `@messagebox/express`): while
 * the inbox's backlog (messages received and not yet handled) or the
 * receives in flight at this endpoint pass a bound, a request is answered
 * `503` (or `429`) with `Retry-After` and the JSON error `overloaded`,
 * before its body is read, and nothing is stored: the sender keeps the
 * message. A messagebox sender (`@messagebox/transport-http`) then pauses
 * every message to this endpoint for that long, without counting the
 * attempt. Batches are refused whole. Give at least one bound.
 *
 * @example
 * honoInbox(inbox, { secret, shedLoad: { maxBacklog: 10_000, maxInFlightReceives: 200, retryAfterSeconds: 5 } })
 */
export interface ShedLoadOptions {
  /**
   * Refuse while more than this many messages wait for their handler (inbox
   * rows in status `received`, those being handled included). Read from
   * the store (`store.count({ status: 'received' })`, else `store.stats()`)
   * at most once per `backlogCheckMs`, in the background: requests never
   * wait for the count, so the bound is a soft one (it may be passed by
   * what arrives within one reading).
   */
  maxBacklog?: number;
  /** Refuse while this many receives (requests, a batch counting as one) are already in flight at this endpoint. */
  maxInFlightReceives?: number;
  /** The `Retry-After` of a refusal, in whole seconds. Default 5. */
  retryAfterSeconds?: number;
  /** The status of a refusal: 503 (default) or 429. */
  status?: 503 | 429;
  /** How long one backlog reading is used. Default 1 000 ms. */
  backlogCheckMs?: number;
}

/** A request was refused to shed load (`inbox.events.on('shed', …)`). */
export interface ShedEvent {
  reason: 'backlog' | 'in_flight';
  /** The backlog or in-flight count that passed its bound, and the bound. */
  value: number;
  limit: number;
  /** A batch request (all its messages were refused). */
  batch: boolean;
  retryAfterSeconds: number;
}

/** What the shedder reads the backlog from: an inbox store (`inbox.store`). */
export interface BacklogSource {
  count?(filter: { status: 'received' }): Promise<number>;
  stats(): Promise<{ received: number }>;
}

/** Default `shedLoad.retryAfterSeconds`: 5 s. */
export const DEFAULT_SHED_RETRY_AFTER_SECONDS = 5;
/** Default `shedLoad.backlogCheckMs`: 1 s. */
export const DEFAULT_BACKLOG_CHECK_MS = 1_000;

/** A request let through: call `done()` when it is answered. */
export interface ShedTicket {
  done(): void;
}

/** The endpoint's load shedder: `admit()` before a request's body is read. */
export class LoadShedder {
  readonly #options: Required<Omit<ShedLoadOptions, 'maxBacklog' | 'maxInFlightReceives'>> & Pick<ShedLoadOptions, 'maxBacklog' | 'maxInFlightReceives'>;
  readonly #backlog: BacklogGauge | undefined;
  readonly #logger: Logger;
  readonly #emit: (event: ShedEvent) => void;
  #inFlight = 0;
  /** Requests refused since shedding began (for the one log line when it ends). */
  #shedding: { since: number; refused: number } | undefined;

  constructor(options: ShedLoadOptions, context: { source: BacklogSource | undefined; logger: Logger; emit(event: ShedEvent): void }) {
    this.#options = resolveShedLoad(options, context.source !== undefined);
    this.#backlog = this.#options.maxBacklog === undefined ? undefined : new BacklogGauge(context.source!, this.#options.backlogCheckMs, context.logger);
    this.#logger = context.logger;
    this.#emit = context.emit;
  }

  /** Lets the request through (a ticket) or throws the `overloaded` refusal. */
  async admit(batch: boolean): Promise<ShedTicket> {
    const { maxBacklog, maxInFlightReceives } = this.#options;
    if (maxInFlightReceives !== undefined && this.#inFlight >= maxInFlightReceives) this.#refuse('in_flight', this.#inFlight, maxInFlightReceives, batch);
    if (this.#backlog && maxBacklog !== undefined) {
      const backlog = await this.#backlog.read();
      if (backlog > maxBacklog) this.#refuse('backlog', backlog, maxBacklog, batch);
    }
    if (this.#shedding) {
      this.#logger.info({ refused: this.#shedding.refused, forMs: Date.now() - this.#shedding.since }, 'inbox endpoint stopped shedding load: requests are accepted again');
      this.#shedding = undefined;
    }
    this.#inFlight++;
    let open = true;
    return {
      done: () => {
        if (open) this.#inFlight--;
        open = false;
      },
    };
  }

  #refuse(reason: ShedEvent['reason'], value: number, limit: number, batch: boolean): never {
    const { retryAfterSeconds, status } = this.#options;
    if (!this.#shedding) {
      this.#shedding = { since: Date.now(), refused: 0 };
      this.#logger.warn({ reason, value, limit, retryAfterSeconds }, `inbox endpoint is shedding load (${describe(reason, value, limit)}): answering ${status} with Retry-After ${retryAfterSeconds} until it drops`);
    }
    this.#shedding.refused++;
    this.#emit({ reason, value, limit, batch, retryAfterSeconds });
    throw new InboxRequestError('overloaded', status, `the inbox is busy (${describe(reason, value, limit)}); nothing was stored, retry after ${retryAfterSeconds} s`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }
}

function describe(reason: ShedEvent['reason'], value: number, limit: number): string {
  return reason === 'backlog' ? `backlog of ${value} messages over maxBacklog ${limit}` : `${value} receives in flight, maxInFlightReceives ${limit}`;
}

/**
 * The backlog count, read at most once per `everyMs` with one read in
 * flight: the first request waits for the first reading; later ones use the
 * last reading while a fresh one is taken in the background. A failed read
 * keeps the last value (0 before any) and is logged.
 */
class BacklogGauge {
  #value: number | undefined;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<number> | undefined;

  constructor(
    readonly source: BacklogSource,
    readonly everyMs: number,
    readonly logger: Logger,
  ) {}

  read(): Promise<number> {
    if (performance.now() - this.#readAt >= this.everyMs && !this.#reading) {
      this.#reading = this.#fetch().finally(() => {
        this.#reading = undefined;
      });
    }
    if (this.#value === undefined && this.#reading) return this.#reading;
    return Promise.resolve(this.#value ?? 0);
  }

  async #fetch(): Promise<number> {
    try {
      const value = this.source.count ? await this.source.count({ status: 'received' }) : (await this.source.stats()).received;
      this.#value = value;
      return value;
    } catch (error) {
      this.logger.error({ error: describeError(error) }, 'inbox endpoint: reading the backlog for load shedding failed; using the last reading');
      return this.#value ?? 0;
    } finally {
      this.#readAt = performance.now();
    }
  }
}

function resolveShedLoad(options: ShedLoadOptions, hasSource: boolean) {
  const where = 'inbox endpoint: shedLoad';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new MessageboxError('invalid_options', `${where} must be an object like { maxBacklog: 10000, maxInFlightReceives: 200, retryAfterSeconds: 5 }, got ${String(options)}`);
  }
  const { maxBacklog, maxInFlightReceives } = options;
  const retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_SHED_RETRY_AFTER_SECONDS;
  const status = options.status ?? 503;
  const backlogCheckMs = options.backlogCheckMs ?? DEFAULT_BACKLOG_CHECK_MS;
  if (maxBacklog === undefined && maxInFlightReceives === undefined) {
    throw new MessageboxError('invalid_options', `${where} needs maxBacklog or maxInFlightReceives (or both)`);
  }
  if (maxBacklog !== undefined && (!Number.isInteger(maxBacklog) || maxBacklog < 0)) {
    throw new MessageboxError('invalid_options', `${where}.maxBacklog must be an integer >= 0, got ${String(maxBacklog)}`);
  }
  if (maxInFlightReceives !== undefined && (!Number.isInteger(maxInFlightReceives) || maxInFlightReceives < 1)) {
    throw new MessageboxError('invalid_options', `${where}.maxInFlightReceives must be a positive integer, got ${String(maxInFlightReceives)}`);
  }
  if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 1) {
    throw new MessageboxError('invalid_options', `${where}.retryAfterSeconds must be a whole number of seconds >= 1, got ${String(retryAfterSeconds)}`);
  }
  if (status !== 503 && status !== 429) throw new MessageboxError('invalid_options', `${where}.status must be 503 or 429, got ${String(status)}`);
  if (typeof backlogCheckMs !== 'number' || !Number.isFinite(backlogCheckMs) || backlogCheckMs < 0) {
    throw new MessageboxError('invalid_options', `${where}.backlogCheckMs must be a number of milliseconds >= 0, got ${String(backlogCheckMs)}`);
  }
  if (maxBacklog !== undefined && !hasSource) {
    throw new MessageboxError('invalid_options', `${where}.maxBacklog needs an inbox with a store to count its backlog (an inbox from createInbox())`);
  }
  return { maxBacklog, maxInFlightReceives, retryAfterSeconds, status, backlogCheckMs };
}
