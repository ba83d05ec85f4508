import { decodeWebhookBody, encodeWebhookBody, MessageboxError, TransportError, type InboxReceiver, type Transport } from '@messagebox/core';

/** Options of {@link createInboxLink}. */
export interface InboxLinkOptions {
  /** Names the transport in logs and errors. Default `"in-memory link"`. */
  name?: string;
}

/** What the inbox endpoint would answer for a refusal, as a transport error (4xx permanent, 5xx retried). */
const REFUSALS: Record<string, { status: number; retryable: boolean }> = {
  invalid_message: { status: 422, retryable: false },
  invalid_payload: { status: 422, retryable: false },
  unknown_type: { status: 422, retryable: false },
  handler_failed: { status: 500, retryable: true },
};

/**
 * A transport that hands each message straight to `inbox.receive`, in the
 * same process, for unit tests of a service without HTTP. The message goes
 * through the real wire format first (JSON body and back), so the inbox
 * sees what it would over HTTP: a `Date` in a payload arrives as a string,
 * `undefined` properties are gone. A refusal is reported as the HTTP
 * transport would: invalid payload or unknown type permanent (the message
 * goes dead at once), an inline handler failure or a store failure retried.
 *
 * @example
 * const inbox = createInbox({ store: createMemoryInboxStore(), catalog }).on('order.created', handler);
 * const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 'shop', catalog })
 *   .configure('order.created', { transport: createInboxLink(inbox) });
 */
export function createInboxLink(inbox: Pick<InboxReceiver, 'receive'>, options: InboxLinkOptions = {}): Transport {
  if (!inbox || typeof inbox.receive !== 'function') throw new MessageboxError('invalid_options', 'createInboxLink needs an inbox (from createInbox())');
  const name = options.name ?? 'in-memory link';
  return {
    name,
    async send(message) {
      const wire = JSON.parse(encodeWebhookBody(message)) as unknown;
      const received = decodeWebhookBody(wire, message.id);
      try {
        await inbox.receive(received);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        const refusal = (typeof code === 'string' && REFUSALS[code]) || { status: 503, retryable: true };
        throw new TransportError(`[messagebox] ${name}: the inbox refused ${message.id} (${refusal.status}): ${error instanceof Error ? error.message.replace(/^\[messagebox\] /, '') : String(error)}`, {
          retryable: refusal.retryable,
          status: refusal.status,
          cause: error,
        });
      }
    },
  };
}
