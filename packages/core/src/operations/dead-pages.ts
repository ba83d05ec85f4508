import type { Clock } from '../clock.js';
import { MessageboxError } from '../errors.js';
import type { RecordCursor, RecordFilter } from '../ports/claim.js';
import type { InboxStatus } from '../ports/inbox-store.js';
import type { OutboxStatus } from '../ports/outbox-store.js';
import type { DeadMessageFilter, SideCounts } from './create-operations.js';
import { toRecordFilter } from './record-filter.js';
import { sidesOf, type MessageboxSide, type ResolvedTargets, type StoredMessage } from './targets.js';

/**
 * Options of {@link MessageboxOperations.pageDead}: one side's dead
 * messages, a page at a time, oldest first.
 *
 * @example
 * let page = await ops.pageDead({ side: 'outbox', type: 'payment.created', limit: 50 });
 * while (page.next) page = await ops.pageDead({ side: 'outbox', type: 'payment.created', limit: 50, after: page.next });
 */
export interface DeadPageOptions extends Omit<DeadMessageFilter, 'side' | 'limit' | 'ids'> {
  side: MessageboxSide;
  /** Most messages on the page, 1 to 500. Default 50. */
  limit?: number;
  /** The `next` of the previous page. */
  after?: string;
}

/** One page of dead messages, and the cursor of the next page (null on the last one). */
export interface DeadPage {
  messages: StoredMessage[];
  next: string | null;
}

const MAX_PAGE = 500;

export async function pageDead(targets: ResolvedTargets, clock: Clock, options: DeadPageOptions): Promise<DeadPage> {
  if (!options || typeof options !== 'object') throw new MessageboxError('invalid_options', 'pageDead needs options with a side');
  const [side] = sidesOf(targets, options.side ?? ('' as MessageboxSide));
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new MessageboxError('invalid_options', `page limit must be an integer from 1 to ${MAX_PAGE}, got ${limit}`);
  const filter: RecordFilter<string> = { ...toRecordFilter(options, clock), status: 'dead', limit: limit + 1 };
  if (options.after !== undefined) filter.after = decodeCursor(options.after);
  const rows: StoredMessage[] =
    side === 'outbox'
      ? (await targets.outboxStore!.list(filter as RecordFilter<OutboxStatus>)).map((row) => ({ ...row, side }))
      : (await targets.inboxStore!.list(filter as RecordFilter<InboxStatus>)).map((row) => ({ ...row, side: 'inbox' as const }));
  const messages = rows.slice(0, limit);
  const last = messages.at(-1);
  return { messages, next: rows.length > limit && last ? encodeCursor(last) : null };
}

export async function countDead(targets: ResolvedTargets, clock: Clock, filter: Omit<DeadMessageFilter, 'limit'>): Promise<SideCounts> {
  const where: RecordFilter<string> = { ...toRecordFilter(filter, clock), status: 'dead' };
  const counts: SideCounts = { outbox: 0, inbox: 0, total: 0 };
  for (const side of sidesOf(targets, filter.side)) {
    const store = side === 'outbox' ? targets.outboxStore! : targets.inboxStore!;
    if (typeof store.count !== 'function') throw new MessageboxError('invalid_options', `the ${side} store has no count(); use a messagebox SQL or in-memory store, or implement it`);
    counts[side] = await store.count(where as RecordFilter<never>);
    counts.total += counts[side];
  }
  return counts;
}

/** The cursor after `message`: its list-order time, id and source, as URL-safe text. */
export function encodeCursor(message: StoredMessage): string {
  const at = (message.side === 'inbox' ? message.receivedAt : message.createdAt).getTime();
  return toBase64Url(JSON.stringify([at, message.id, message.source]));
}

function decodeCursor(text: string): RecordCursor {
  try {
    const [at, id, source] = JSON.parse(fromBase64Url(String(text))) as unknown[];
    if (typeof at === 'number' && Number.isFinite(at) && typeof id === 'string' && typeof source === 'string') return { at: new Date(at), id, source };
  } catch {
    // falls through to the error below
  }
  throw new MessageboxError('invalid_options', 'the page cursor is not one this dashboard gave out; start from the first page');
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}
