import { MessageboxError } from '../errors.js';
import type { Inbox } from '../inbox/create-inbox.js';
import type { Outbox } from '../outbox/create-outbox.js';
import type { InboxRecord, InboxStore } from '../ports/inbox-store.js';
import type { OutboxRecord, OutboxStore } from '../ports/outbox-store.js';

/** Which side of messagebox an operation looks at. */
export type MessageboxSide = 'outbox' | 'inbox';

/**
 * What the operations work on: the outbox and/or inbox, as services
 * (`createOutbox`, `createInbox`) or bare stores. `resend` needs the outbox
 * service (it sends through its transports); everything else needs only
 * stores.
 *
 * @example
 * const ops = createOperations({ outbox, inbox: storage.inbox });
 */
export interface OperationTargets {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  outbox?: Outbox<any> | OutboxStore<any> | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inbox?: Inbox<any> | InboxStore<any> | undefined;
}

/** A stored message with the side it was found on. */
export type StoredMessage = (OutboxRecord & { readonly side: 'outbox' }) | (InboxRecord & { readonly side: 'inbox' });

export interface ResolvedTargets {
  outboxStore: OutboxStore<unknown> | undefined;
  inboxStore: InboxStore<unknown> | undefined;
  outbox: Outbox<unknown> | undefined;
  inbox: Inbox<unknown> | undefined;
}

export function isOutboxService(value: unknown): value is Outbox<unknown> {
  return typeof (value as Outbox<unknown> | undefined)?.resendUnsentMessages === 'function' && typeof (value as Outbox<unknown>).store === 'object';
}

export function isInboxService(value: unknown): value is Inbox<unknown> {
  return typeof (value as Inbox<unknown> | undefined)?.processDue === 'function' && typeof (value as Inbox<unknown>).store === 'object';
}

export function resolveTargets(targets: OperationTargets): ResolvedTargets {
  if (!targets || (!targets.outbox && !targets.inbox)) {
    throw new MessageboxError('invalid_options', 'operations need an `outbox` and/or an `inbox` (a service or a store)');
  }
  const outbox = isOutboxService(targets.outbox) ? targets.outbox : undefined;
  const inbox = isInboxService(targets.inbox) ? targets.inbox : undefined;
  return {
    outbox,
    inbox,
    outboxStore: (outbox?.store ?? targets.outbox) as OutboxStore<unknown> | undefined,
    inboxStore: (inbox?.store ?? targets.inbox) as InboxStore<unknown> | undefined,
  };
}

/** The sides to visit: `only` when given (and configured), else every configured side. */
export function sidesOf(targets: ResolvedTargets, only?: MessageboxSide): MessageboxSide[] {
  if (only !== undefined && only !== 'outbox' && only !== 'inbox') {
    throw new MessageboxError('invalid_options', `side must be "outbox" or "inbox", got ${JSON.stringify(only)}`);
  }
  const sides: MessageboxSide[] = [];
  if (targets.outboxStore && only !== 'inbox') sides.push('outbox');
  if (targets.inboxStore && only !== 'outbox') sides.push('inbox');
  if (only && sides.length === 0) throw new MessageboxError('invalid_options', `no ${only} is configured`);
  return sides;
}
