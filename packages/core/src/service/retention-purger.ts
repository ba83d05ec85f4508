import { describeError } from '../errors.js';
import { PeriodicTask } from '../internal/periodic-task.js';
import type { PurgeOptions } from '../ports/claim.js';
import type { Logger } from '../ports/logger.js';
import { purgeInBatches, type ResolvedRetention } from '../retention.js';

/**
 * The worker's retention task: every `intervalMs`, deletes finished rows
 * older than `keepMs` in bounded batches, logs how many, and logs (and tries
 * again next interval) when the store fails. Undefined without retention.
 */
export function retentionPurger(
  side: { name: 'outbox' | 'inbox'; finished: 'sent' | 'processed'; logger: Logger },
  purge: (options: PurgeOptions) => Promise<number>,
  retention: ResolvedRetention | undefined,
): PeriodicTask | undefined {
  if (!retention) return undefined;
  const { name, finished, logger } = side;
  return new PeriodicTask(async () => {
    try {
      const deleted = await purgeInBatches(purge, { olderThanMs: retention.keepMs, batchSize: retention.batchSize });
      if (deleted) logger.info({ deleted }, `${name} retention: deleted ${finished} messages`);
    } catch (error) {
      logger.error({ error: describeError(error) }, `${name} retention: purge failed; will try again`);
    }
  }, retention.intervalMs);
}
