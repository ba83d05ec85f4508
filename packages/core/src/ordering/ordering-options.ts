import { MessageboxError } from '../errors.js';
import type { DeadKeyPolicy } from '../ports/claim.js';

/**
 * Per-key ordering (messages with a `key`), an option of `createOutbox` and
 * `createInbox`. Messages without a key are not affected.
 *
 * @example
 * createOutbox({ store, source: 'billing', ordering: { dead: 'skip' } });
 */
export interface OrderingOptions {
  /**
   * What a message that went `dead` does to the later messages of its key.
   * `block` (default): they wait until the dead one is replayed (`messagebox
   * replay`, the dashboard) or deleted, so order is never broken. `skip`:
   * the dead one is passed over and the next message of the key goes on.
   */
  dead?: DeadKeyPolicy;
}

/** Resolved {@link OrderingOptions}. */
export interface ResolvedOrdering {
  readonly deadKey: DeadKeyPolicy;
}

/** Validates {@link OrderingOptions}; `who` names the factory in the error. */
export function resolveOrdering(options: OrderingOptions | undefined, who: string): ResolvedOrdering {
  if (options === undefined) return { deadKey: 'block' };
  if (options === null || typeof options !== 'object') throw new MessageboxError('invalid_options', `${who}: ordering must be an object like { dead: 'block' }`);
  const dead = options.dead ?? 'block';
  if (dead !== 'block' && dead !== 'skip') throw new MessageboxError('invalid_options', `${who}: ordering.dead must be "block" or "skip", got ${JSON.stringify(String(dead))}`);
  return { deadKey: dead };
}
