import { describeError, MessageboxError, type Inbox, type InboxKey, type Message } from '@messagebox/core';

/** Which message {@link waitForMessage} waits for: one by id (a `Message` will do), or the first of a type that `where` accepts. */
export type MessageMatch =
  | { id: string; source?: string }
  | { type: string; where?: (message: Message<any>) => boolean };

/** Options of {@link waitForMessage}. */
export interface WaitForMessageOptions {
  /** How long to wait before rejecting with a timeout error. Default 10 000 ms. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Why {@link waitForMessage} rejected: `timeout` (not processed in time) or `dead` (the inbox gave up on it). */
export class WaitForMessageError extends Error {
  override readonly name = 'WaitForMessageError';
  readonly code: 'timeout' | 'dead';
  constructor(code: 'timeout' | 'dead', message: string) {
    super(`[messagebox] ${message}`);
    this.code = code;
  }
}

/**
 * Resolves with the message once the inbox has handled it: its handler
 * succeeded and the transaction that marks it processed committed, so the
 * handler's rows can be read right away. Rejects when the message goes dead,
 * and after `timeoutMs` with an error that says what it waited for and the
 * last handler error seen for it (both a {@link WaitForMessageError}). Call it before the action that sends the
 * message (or give `id` and `source`: a message already processed is then
 * found in the store). The inbox must be running (`inbox.start()`), or call
 * `inbox.processDue()` meanwhile.
 *
 * @example
 * const processed = waitForMessage(inbox, { type: 'order.created', where: (m) => m.payload.id === 'o-1' });
 * await placeOrder('o-1');
 * await processed;
 * expect(await db.selectFrom('ledger').selectAll().execute()).toHaveLength(1);
 */
export function waitForMessage(inbox: Pick<Inbox<any>, 'events' | 'store'>, match: MessageMatch, options: WaitForMessageOptions = {}): Promise<Message> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new MessageboxError('invalid_options', `waitForMessage: timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  const matches = matcher(match);
  return new Promise<Message>((resolve, reject) => {
    let lastError: string | undefined;
    let failures = 0;
    const unsubscribe = [
      inbox.events.on('handled', ({ message }) => {
        if (matches(message)) finish(() => resolve(message));
      }),
      inbox.events.on('handlerFailed', ({ message, error }) => {
        if (!matches(message)) return;
        failures++;
        lastError = error;
      }),
      inbox.events.on('dead', ({ message, error }) => {
        if (matches(message)) finish(() => reject(new WaitForMessageError('dead', `waitForMessage: ${describeMatch(match)} went dead: ${error}`)));
      }),
    ];
    const timer = setTimeout(() => {
      const seen = failures ? `; its handler failed ${failures} time(s), last: ${lastError}` : '; no handler run for it finished (is the inbox started, and was the message sent?)';
      finish(() => reject(new WaitForMessageError('timeout', `waitForMessage: ${describeMatch(match)} was not processed within ${timeoutMs} ms${seen}`)));
    }, timeoutMs);
    let done = false;
    function finish(settle: () => void): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const off of unsubscribe) off();
      settle();
    }
    // Already processed (or dead) before we subscribed: look it up.
    if ('id' in match && match.source !== undefined) {
      const key: InboxKey = { source: match.source, id: match.id };
      inbox.store.get(key).then(
        (row) => {
          if (row?.status === 'processed') finish(() => resolve(row));
          else if (row?.status === 'dead') finish(() => reject(new WaitForMessageError('dead', `waitForMessage: ${describeMatch(match)} is dead: ${row.lastError ?? 'no error recorded'}`)));
        },
        (error: unknown) => finish(() => reject(error)),
      );
    }
  });
}

function matcher(match: MessageMatch): (message: Message<any>) => boolean {
  if ('id' in match) return (message) => message.id === match.id && (match.source === undefined || message.source === match.source);
  if (typeof match?.type !== 'string') throw new MessageboxError('invalid_options', 'waitForMessage needs { id } or { type, where? }');
  return (message) => message.type === match.type && (match.where ? match.where(message) : true);
}

function describeMatch(match: MessageMatch): string {
  if ('id' in match) return `message ${JSON.stringify(match.id)}${match.source === undefined ? '' : ` from ${JSON.stringify(match.source)}`}`;
  return `a message of type ${JSON.stringify(match.type)}${match.where ? ' matching `where`' : ''}`;
}
