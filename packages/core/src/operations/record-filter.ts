import type { Clock } from '../clock.js';
import { MessageboxError } from '../errors.js';
import type { RecordFilter } from '../ports/claim.js';
import type { DeadMessageFilter } from './create-operations.js';

/** A {@link DeadMessageFilter} as the stores take it: ages become times, bad values throw `invalid_options`. */
export function toRecordFilter(filter: DeadMessageFilter, clock: Clock): RecordFilter<string> {
  const out: RecordFilter<string> = {};
  if (filter.type !== undefined) out.type = filter.type;
  if (filter.errorContains !== undefined) out.errorContains = filter.errorContains;
  if (filter.source !== undefined) {
    if (typeof filter.source !== 'string' || !filter.source) throw new MessageboxError('invalid_options', 'source must be a non-empty string');
    out.source = filter.source;
  }
  if (filter.ids !== undefined) out.ids = filter.ids;
  if (filter.olderThanMs !== undefined) {
    if (!Number.isFinite(filter.olderThanMs) || filter.olderThanMs < 0) {
      throw new MessageboxError('invalid_options', `olderThanMs must be a number of ms >= 0, got ${filter.olderThanMs}`);
    }
    out.before = new Date(clock.now() - filter.olderThanMs);
  }
  return out;
}
