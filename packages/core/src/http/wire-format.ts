import type { JsonValue } from '../json.js';
import { createMessage, type Message } from '../message.js';
import { payloadJson } from '../payload-json.js';
import { MessageboxError } from '../errors.js';
import { quoteInput } from '../text.js';
import type { WebhookSigner } from './webhook-signature.js';

/**
 * The JSON body of a message on the wire: the Standard Webhooks payload
 * structure (`type`, `timestamp`, `data`) plus the message's `source` and
 * `headers`, all inside the signed body. The message id travels in the
 * `webhook-id` header.
 *
 * @example
 * { "type": "payment.created", "timestamp": "2030-01-01T00:00:00.000Z",
 *   "data": { "amount": 100 }, "source": "vault", "headers": { "traceparent": "00-…" } }
 */
export interface WebhookBody {
  type: string;
  /**
   * ISO 8601 creation time of the message (`message.createdAt`), a real
   * date-time (`2026-02-30` or `T24:00` are refused). Optional on input: a
   * body without it takes the `webhook-timestamp` of the request.
   */
  timestamp?: string;
  /** The message payload. */
  data: JsonValue;
  /** The sending service. Optional on input: a generic Standard Webhooks sender has none. */
  source?: string;
  /** The message headers; omitted when empty. */
  headers?: Record<string, string>;
  /** The message's ordering key (`Message.key`); omitted when it has none. Also sent as the {@link KEY_HEADER} header. */
  key?: string;
}

/**
 * The HTTP header carrying a message's ordering key (`Message.key`), beside
 * the `key` field of the signed body. A receiver reads the body's field;
 * a request with only the header (a generic sender) takes the header's.
 */
export const KEY_HEADER = 'messagebox-key';

/** A message as an HTTP request: headers (signed when a signer is given) and the exact body to send. */
export interface WebhookRequest {
  headers: Record<string, string>;
  body: string;
}

/** The source given to messages from senders whose body has no `source` (generic Standard Webhooks senders). */
export const DEFAULT_WEBHOOK_SOURCE = 'webhook';
/** Deepest JSON nesting the endpoint accepts in a body. */
export const MAX_WEBHOOK_JSON_DEPTH = 64;

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/i;

/** The JSON body text of `message` (see {@link WebhookBody}); the payload written as {@link payloadJson} gives it. */
export function encodeWebhookBody(message: Message): string {
  let body = `{"type":${JSON.stringify(message.type)},"timestamp":"${message.createdAt.toISOString()}","data":${payloadJson(message.payload)},"source":${JSON.stringify(message.source)}`;
  if (Object.keys(message.headers).length > 0) body += `,"headers":${JSON.stringify(message.headers)}`;
  if (message.key !== undefined) body += `,"key":${JSON.stringify(message.key)}`;
  return `${body}}`;
}

/**
 * Builds the HTTP request for `message`: `content-type`, `webhook-id`
 * (= message id), `webhook-timestamp` (`now`, Unix seconds: the time of this
 * attempt, so a retry hours later still passes the receiver's tolerance),
 * `webhook-signature` when a signer is given, and `traceparent` when the
 * message carries one.
 *
 * @example
 * const { headers, body } = await encodeWebhookRequest(message, { signer, now: Date.now() });
 * await fetch(url, { method: 'POST', headers, body });
 */
export async function encodeWebhookRequest(
  message: Message,
  options: { signer?: WebhookSigner | undefined; now: number },
): Promise<WebhookRequest> {
  const body = encodeWebhookBody(message);
  const timestamp = Math.floor(options.now / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': message.id,
    'webhook-timestamp': String(timestamp),
  };
  if (options.signer) headers['webhook-signature'] = await options.signer.sign({ id: message.id, timestamp, body });
  const traceparent = message.headers['traceparent'];
  if (traceparent !== undefined) headers['traceparent'] = traceparent;
  if (message.key !== undefined) headers[KEY_HEADER] = message.key;
  return { headers, body };
}

/**
 * Turns a parsed body and its `webhook-id` back into a {@link Message}, or
 * throws `MessageboxError('invalid_message' | 'invalid_payload')` naming the
 * first field that is missing or ill-typed. A body without `source` gets
 * `defaultSource` ({@link DEFAULT_WEBHOOK_SOURCE} unless given); a body
 * without `timestamp` gets `fallbackTimestamp` (the request's
 * `webhook-timestamp`, Unix seconds), and is refused when there is none.
 * A body without `key` takes `keyHeader` (the request's {@link KEY_HEADER});
 * one whose `key` differs from `keyHeader` is refused.
 * Unknown top-level fields are ignored.
 *
 * @example
 * const message = decodeWebhookBody(JSON.parse(text), request.headers.get('webhook-id')!, { fallbackTimestamp: 1767225600 });
 */
export function decodeWebhookBody(
  body: unknown,
  id: string,
  options: { defaultSource?: string | undefined; fallbackTimestamp?: number | undefined; keyHeader?: string | null | undefined } = {},
): Message {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('the body must be a JSON object with "type", "timestamp" and "data"');
  }
  const fields = body as Record<string, unknown>;
  if (typeof fields['type'] !== 'string') throw invalid('"type" must be a string');
  let createdAt: Date;
  if (fields['timestamp'] === undefined && options.fallbackTimestamp !== undefined) {
    createdAt = new Date(options.fallbackTimestamp * 1000);
    if (Number.isNaN(createdAt.getTime())) throw invalid('the webhook-timestamp header is not a valid time');
  } else {
    if (fields['timestamp'] === undefined) {
      throw invalid('"timestamp" is required (or a webhook-timestamp header to take it from)');
    }
    const match = typeof fields['timestamp'] === 'string' ? ISO_8601.exec(fields['timestamp']) : null;
    if (!match) {
      throw invalid('"timestamp" must be an ISO 8601 date-time string, e.g. "2030-01-01T00:00:00.000Z"');
    }
    const parsed = parseIsoDateTime(match);
    if (!parsed) throw invalid(`"timestamp" is not a real date-time: ${quoteInput(fields['timestamp'])}`);
    createdAt = parsed;
  }
  if (!('data' in fields) || fields['data'] === undefined) throw invalid('"data" is required');
  if (jsonDepth(fields['data']) > MAX_WEBHOOK_JSON_DEPTH) {
    throw new MessageboxError('invalid_payload', `"data" is nested deeper than ${MAX_WEBHOOK_JSON_DEPTH} levels`);
  }
  const source = fields['source'];
  if (source !== undefined && typeof source !== 'string') throw invalid('"source" must be a string');
  const headers = fields['headers'];
  if (headers !== undefined) {
    if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
      throw invalid('"headers" must be an object of strings');
    }
    for (const [key, value] of Object.entries(headers)) {
      if (typeof value !== 'string') throw invalid(`${quoteInput(`headers.${key}`)} must be a string`);
    }
  }
  const key = fields['key'] ?? options.keyHeader ?? undefined;
  if (fields['key'] !== undefined && options.keyHeader != null && fields['key'] !== options.keyHeader) {
    throw invalid(`the ${KEY_HEADER} header (${quoteInput(options.keyHeader, 100)}) differs from the body's "key" (${quoteInput(fields['key'], 100)})`);
  }
  return createMessage(
    {
      id,
      type: fields['type'],
      source: source ?? options.defaultSource ?? DEFAULT_WEBHOOK_SOURCE,
      payload: fields['data'] as JsonValue,
      headers: headers as Record<string, string> | undefined,
      ...(key !== undefined ? { key: key as string } : {}),
    },
    { now: createdAt },
  );
}

/**
 * The instant an ISO 8601 date-time (its `ISO_8601` match) names, or
 * undefined when a field is out of range (month 13, February 30, hour 24,
 * minute or second 60, offset hour 24): parsed by field and checked, never
 * left to `Date` to roll over. Digits past milliseconds are dropped.
 */
function parseIsoDateTime(m: RegExpExecArray): Date | undefined {
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHour = Number(m[9]);
    const offsetMinute = Number(m[10]);
    if (offsetHour > 23 || offsetMinute > 59) return undefined;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  // Date.UTC reads years 0-99 as 1900-1999: those (never a message's) go through setUTCFullYear.
  if (year >= 100) return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function invalid(message: string): MessageboxError {
  return new MessageboxError('invalid_message', message);
}

function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) max = depth;
    if (max > MAX_WEBHOOK_JSON_DEPTH) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}
