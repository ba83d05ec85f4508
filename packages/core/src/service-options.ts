import { systemClock, type Clock } from './clock.js';
import { MessageboxError } from './errors.js';
import { createConsoleLogger, type Logger } from './ports/logger.js';
import { createRetryPolicy, type RetryPolicy, type RetryPolicyOptions } from './retry-policy.js';

/**
 * Options shared by `createOutbox` and `createInbox`.
 *
 * Keep `leaseMs` above the longest time one attempt may take (the transport's
 * timeout, or your slowest handler) times `batchSize / concurrency`, or a
 * second worker may take over a message that is still being worked on (it is
 * then sent or handled twice). The outbox checks the lease left before each
 * attempt and claims again when it ran low (`minLeaseLeftMs`); messages
 * received in after-commit mode hold their lease while they wait for a free
 * slot, so under bursts also mind `maxQueued / concurrency` there.
 */
export interface ServiceOptions {
  /** Default retry policy; per-type policies extend it. */
  retry?: RetryPolicyOptions;
  /** How long a claim lasts before another worker may take over. Default 60 000 ms. */
  leaseMs?: number;
  /** Rows claimed per round trip. Default 100. */
  batchSize?: number;
  /** Attempts running at once in this process. Default 32. */
  concurrency?: number;
  /** How long an idle worker sleeps between polls when nothing wakes it. Default 5 000 ms. */
  pollIntervalMs?: number;
  /** Most claimed messages queued on the after-commit path before they are left to the workers. Default 1 000. */
  maxQueued?: number;
  /** How long `stop()` waits for attempts in flight. Default 30 000 ms. */
  shutdownTimeoutMs?: number;
  /** Time source for age and retry computations. Default: the system clock. */
  clock?: Clock;
  /** Random source in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Default: warnings and errors to the console. */
  logger?: Logger;
}

export interface ResolvedServiceOptions {
  retry: RetryPolicy;
  leaseMs: number;
  batchSize: number;
  concurrency: number;
  pollIntervalMs: number;
  maxQueued: number;
  shutdownTimeoutMs: number;
  clock: Clock;
  random: () => number;
  logger: Logger;
}

export function resolveServiceOptions(options: ServiceOptions, what: string): ResolvedServiceOptions {
  const positive = (name: keyof ServiceOptions, value: number, integer = false) => {
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new MessageboxError('invalid_options', `${what}: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
    }
    return value;
  };
  return {
    retry: createRetryPolicy(options.retry),
    leaseMs: positive('leaseMs', options.leaseMs ?? 60_000),
    batchSize: positive('batchSize', options.batchSize ?? 100, true),
    concurrency: positive('concurrency', options.concurrency ?? 32, true),
    pollIntervalMs: positive('pollIntervalMs', options.pollIntervalMs ?? 5_000),
    maxQueued: positive('maxQueued', options.maxQueued ?? 1_000, true),
    shutdownTimeoutMs: positive('shutdownTimeoutMs', options.shutdownTimeoutMs ?? 30_000),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    logger: options.logger ?? createConsoleLogger(),
  };
}
