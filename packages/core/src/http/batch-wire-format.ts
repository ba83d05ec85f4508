import { isMessageboxError, MessageboxError } from '../errors.js';
import type { Message } from '../message.js';
import { quoteInput } from '../text.js';
import type { WebhookSigner } from './webhook-signature.js';
import { decodeWebhookBody, encodeWebhookBody, type WebhookBody, type WebhookRequest } from './wire-format.js';

/**
 * Content type of a batch of messages between messagebox peers (see
 * `WIRE-FORMAT.md` in this folder). A receiver that does not know it answers
 * 415; generic Standard Webhooks receivers never get it (batching is opt-in
 * per route).
 */
export const BATCH_CONTENT_TYPE = 'application/vnd.messagebox.batch+json';

/** One message inside a batch body: its {@link WebhookBody} plus its `id`. */
export interface WebhookBatchItem extends WebhookBody {
  id: string;
}

/**
 * The JSON body of a batch request.
 *
 * @example
 * { "messages": [ { "id": "msg_1", "type": "order.created", "timestamp": "2030-01-01T00:00:00.000Z", "data": {}, "source": "shop" } ] }
 */
export interface WebhookBatchBody {
  messages: WebhookBatchItem[];
}

/** How the receiver answered for one message of a batch, in the order of the request. */
export type WebhookBatchResult =
  | { id: string; status: 'created' | 'duplicate' }
  | {
      /** The item's id, or null when it had none that is a string. */
      id: string | null;
      status: 'rejected';
      /** `status`: the HTTP status this message would have been answered with alone (422 invalid, 500 inline handler failed). */
      error: { code: string; message: string; status: number; /** For `invalid_payload`: what the schema found wrong. */ issues?: readonly { message: string; path: readonly (string | number)[] }[] };
    };

/** The JSON body of a 200 answer to a batch request. */
export interface WebhookBatchResponse {
  results: WebhookBatchResult[];
}

/**
 * Builds the HTTP request for a batch: `content-type` {@link BATCH_CONTENT_TYPE},
 * `webhook-id` = `batchId` (a fresh `batch_…` id per attempt), `webhook-timestamp`
 * (`now`, Unix seconds), and `webhook-signature` over the whole body as
 * Standard Webhooks signs one message.
 *
 * @example
 * const { headers, body } = await encodeWebhookBatchRequest(messages, { signer, now: Date.now(), batchId: `batch_${crypto.randomUUID()}` });
 */
export async function encodeWebhookBatchRequest(
  messages: readonly Message[],
  options: { signer?: WebhookSigner | undefined; now: number; batchId: string },
): Promise<WebhookRequest> {
  const body = `{"messages":[${messages.map(encodeWebhookBatchItem).join(',')}]}`;
  const timestamp = Math.floor(options.now / 1000);
  const headers: Record<string, string> = {
    'content-type': BATCH_CONTENT_TYPE,
    'webhook-id': options.batchId,
    'webhook-timestamp': String(timestamp),
  };
  if (options.signer) headers['webhook-signature'] = await options.signer.sign({ id: options.batchId, timestamp, body });
  return { headers, body };
}

/** Item texts by message: messages are immutable, and the outbox counts an item's size (`maxBytes`) before the transport writes it. */
const itemTexts = new WeakMap<Message, string>();

/**
 * The JSON text of `message` as one item of a batch body: its
 * {@link encodeWebhookBody} with `"id"` first. Built once per message object
 * and remembered while the object lives, so the outbox's `maxBytes` count and
 * the request body share it.
 *
 * @example
 * encodeWebhookBatchItem(message); // '{"id":"0190…","type":"order.created","timestamp":"…","data":{…},"source":"shop"}'
 */
export function encodeWebhookBatchItem(message: Message): string {
  let text = itemTexts.get(message);
  if (text === undefined) {
    text = `{"id":${JSON.stringify(message.id)},${encodeWebhookBody(message).slice(1)}`;
    itemTexts.set(message, text);
  }
  return text;
}

/** One decoded item of a batch body: a message, or why it was refused (and its id when it had one). */
export type DecodedBatchItem = { message: Message } | { id: string | null; error: MessageboxError };

/**
 * Checks the envelope of a parsed batch body (an object whose `messages` is
 * a non-empty array, at most `maxMessages` long) and decodes every item on
 * its own, as {@link decodeWebhookBody} decodes one body; an item that is
 * invalid is returned with its error, the others are unaffected. Throws
 * `MessageboxError('invalid_message')` for a bad envelope, and a
 * {@link BatchTooLargeError} when there are too many messages.
 *
 * @example
 * const items = decodeWebhookBatchBody(JSON.parse(text), { maxMessages: 1000, fallbackTimestamp });
 */
export function decodeWebhookBatchBody(
  body: unknown,
  options: { maxMessages: number; defaultSource?: string | undefined; fallbackTimestamp?: number | undefined },
): DecodedBatchItem[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !Array.isArray((body as { messages?: unknown }).messages)) {
    throw new MessageboxError('invalid_message', 'a batch body must be a JSON object with a "messages" array');
  }
  const items = (body as { messages: unknown[] }).messages;
  if (items.length === 0) throw new MessageboxError('invalid_message', 'a batch must hold at least one message');
  if (items.length > options.maxMessages) throw new BatchTooLargeError(items.length, options.maxMessages);
  return items.map((item): DecodedBatchItem => {
    const id = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as { id?: unknown }).id : undefined;
    if (typeof id !== 'string') return { id: null, error: new MessageboxError('invalid_message', '"id" of a batch item must be a string') };
    try {
      return { message: decodeWebhookBody(item, id, options) };
    } catch (error) {
      return { id, error: isMessageboxError(error) ? error : new MessageboxError('invalid_message', String(error)) };
    }
  });
}

/** A batch over the receiver's `maxMessages`. */
export class BatchTooLargeError extends MessageboxError {
  override readonly name = 'BatchTooLargeError';
  constructor(
    readonly count: number,
    readonly maxMessages: number,
  ) {
    super('invalid_message', `the batch holds ${count} messages; this endpoint accepts at most ${maxMessages} per request`);
  }
}

/**
 * Reads a 200 answer to a batch of `messages`: one result per message, in
 * order, each naming that message's id. Throws `MessageboxError('transport_failed')`
 * naming what does not fit (the sender then treats every message as failed, retryably).
 *
 * @example
 * const results = decodeWebhookBatchResponse(JSON.parse(text), messages);
 */
export function decodeWebhookBatchResponse(body: unknown, messages: readonly Message[]): WebhookBatchResult[] {
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) throw badResponse('the answer has no "results" array');
  if (results.length !== messages.length) throw badResponse(`the answer has ${results.length} results for ${messages.length} messages`);
  return results.map((result: unknown, i) => {
    const expected = messages[i]!.id;
    const fields = (result ?? {}) as Record<string, unknown>;
    if (fields['id'] !== expected) throw badResponse(`result ${i} is for id ${quoteInput(String(fields['id']), 100)}, expected ${quoteInput(expected, 100)}`);
    if (fields['status'] === 'created' || fields['status'] === 'duplicate') return { id: expected, status: fields['status'] };
    if (fields['status'] !== 'rejected') throw badResponse(`result ${i} has status ${quoteInput(String(fields['status']), 100)}`);
    const error = (fields['error'] ?? {}) as Record<string, unknown>;
    const status = typeof error['status'] === 'number' && Number.isInteger(error['status']) ? error['status'] : 422;
    return {
      id: expected,
      status: 'rejected',
      error: { code: typeof error['code'] === 'string' ? error['code'] : 'rejected', message: typeof error['message'] === 'string' ? error['message'] : '', status },
    };
  });
}

function badResponse(why: string): MessageboxError {
  return new MessageboxError('transport_failed', `unreadable answer to a batch: ${why}`);
}
