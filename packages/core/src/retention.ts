import { MessageboxError } from './errors.js';
import type { PurgeOptions } from './ports/claim.js';

/**
 * How long finished rows (sent outbox rows, processed inbox rows) are kept
 * before a running worker deletes them, in bounded batches. Dead rows are
 * never deleted by retention.
 *
 * @example
 * createInbox({ store, retention: { keepMs: 30 * 86_400_000 } })
 */
export interface RetentionOptions {
  /** Age after finishing at which a row is deleted. Default 7 days. */
  keepMs?: number;
  /** Rows deleted per statement. Default 1 000. */
  batchSize?: number;
  /** How often the worker purges. Default 60 000 ms. */
  intervalMs?: number;
}

export interface ResolvedRetention {
  keepMs: number;
  batchSize: number;
  intervalMs: number;
}

export const DAY_MS = 86_400_000;

export function resolveRetention(options: RetentionOptions | false | undefined, what: string): ResolvedRetention | undefined {
  if (options === false) return undefined;
  const resolved = { keepMs: options?.keepMs ?? 7 * DAY_MS, batchSize: options?.batchSize ?? 1_000, intervalMs: options?.intervalMs ?? 60_000 };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) throw new MessageboxError('invalid_options', `${what}: retention.${name} must be a positive number, got ${value}`);
  }
  return resolved;
}

/**
 * Deletes finished rows older than `olderThanMs` in batches of `batchSize`
 * until none is left (or `maxRows` were deleted). Resolves with the total;
 * `onProgress` is called after each batch.
 */
export async function purgeInBatches(
  purge: (options: PurgeOptions) => Promise<number>,
  options: { olderThanMs: number; batchSize: number; maxRows?: number; onProgress?: (deleted: number) => void },
): Promise<number> {
  let total = 0;
  const max = options.maxRows ?? Number.POSITIVE_INFINITY;
  for (;;) {
    const limit = Math.min(options.batchSize, max - total);
    if (limit <= 0) return total;
    const deleted = await purge({ olderThanMs: options.olderThanMs, limit });
    total += deleted;
    options.onProgress?.(total);
    if (deleted < limit) return total;
  }
}
