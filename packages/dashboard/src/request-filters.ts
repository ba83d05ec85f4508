import { MessageboxError, parseDuration, type DeadMessageFilter, type MessageboxSide } from '@messagebox/core';

/** The filter fields the page sends, in a query string or a JSON body. */
export interface FilterInput {
  side?: unknown;
  type?: unknown;
  error?: unknown;
  olderThan?: unknown;
  source?: unknown;
}

/** A dead-letter filter from the page's fields; empty fields are no filter. Throws `invalid_options` for bad values. */
export function deadFilterOf(input: FilterInput): Omit<DeadMessageFilter, 'limit'> {
  const filter: Omit<DeadMessageFilter, 'limit'> = {};
  const side = text(input.side, 'side');
  if (side !== undefined) filter.side = sideOf(side);
  const type = text(input.type, 'type');
  if (type !== undefined) filter.type = type;
  const error = text(input.error, 'error');
  if (error !== undefined) filter.errorContains = error;
  const source = text(input.source, 'source');
  if (source !== undefined) filter.source = source;
  const olderThan = text(input.olderThan, 'olderThan');
  if (olderThan !== undefined) filter.olderThanMs = parseDuration(olderThan);
  return filter;
}

export function sideOf(value: string): MessageboxSide {
  if (value !== 'outbox' && value !== 'inbox') throw new MessageboxError('invalid_options', `side must be "outbox" or "inbox", got ${JSON.stringify(value.slice(0, 40))}`);
  return value;
}

/** A trimmed non-empty string, or undefined for absent/empty; anything else but a string throws. */
export function text(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new MessageboxError('invalid_options', `${name} must be a string`);
  if (value.length > 1_000) throw new MessageboxError('invalid_options', `${name} is longer than 1000 characters`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A positive integer from a query parameter, within `max`, or the default. */
export function positiveInteger(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new MessageboxError('invalid_options', `${name} must be an integer from 1 to ${max}, got ${JSON.stringify(value.slice(0, 40))}`);
  return n;
}
