import { v7 as uuidv7 } from 'uuid';
import { MessageboxError } from './errors.js';
import { assertJsonValue, type JsonValue } from './json.js';
import { quoteInput } from './text.js';

/**
 * A message as it travels: written to the outbox, sent by a transport, stored
 * in the receiver's inbox. Immutable once created. `P` is the payload type
 * (any JSON-compatible type, interfaces included) and `T` the type name, both
 * filled in from a message catalog (see `defineMessages`).
 */
export interface Message<P = JsonValue, T extends string = string> {
  /** Unique and time-ordered (UUIDv7 by default); the receiver's dedup key. */
  readonly id: string;
  /** The sending service, e.g. `"vault"`. */
  readonly source: string;
  /** What happened, e.g. `"payment.created"`; selects the transport and the handler. */
  readonly type: T;
  /** Any JSON value. */
  readonly payload: P;
  /** String metadata that travels with the message (e.g. `traceparent`). */
  readonly headers: Readonly<Record<string, string>>;
  /** When the message was created (sender's clock). */
  readonly createdAt: Date;
  /**
   * Ordering key (e.g. an account id): messages with the same key are
   * delivered and handled in the order the sender created them (see the
   * README's "Ordering"). Absent: no order, fully parallel.
   */
  readonly key?: string;
}

/** What a caller gives to create a message. */
export interface MessageInput<P = JsonValue> {
  type: string;
  payload: P;
  /** Defaults to the outbox's `source` option. */
  source?: string;
  headers?: Record<string, string>;
  /** Set only to make creation idempotent with an id of your own; defaults to a UUIDv7. */
  id?: string;
  /**
   * Ordering key: messages of one key are sent and handled one at a time, in
   * creation order. 1 to 255 printable ASCII characters (spaces inside
   * allowed), e.g. `account-42`. Omit for unordered messages.
   */
  key?: string;
}

const MAX_NAME_LENGTH = 255;
const NAME_PATTERN = /^[\x21-\x7e]+$/;
/** An HTTP token (RFC 9110), so every header can travel over HTTP as is. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters an HTTP field value cannot hold (RFC 9110: none but HTAB), C1 included: they could steer an operator's terminal. */
const HEADER_VALUE_FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/** Generates message ids: UUIDv7, unique and ordered by creation time. */
export function newMessageId(): string {
  return uuidv7();
}

/** Generates claim tokens (random UUIDv4). */
export function newClaimToken(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * Builds a valid {@link Message}, or throws a `MessageboxError` with code
 * `invalid_message` (bad id, source, type or headers) or `invalid_payload`
 * (a payload JSON cannot represent: `undefined`, a function, a bigint, a
 * cycle, `NaN`…). Nothing is written when it throws.
 */
export function createMessage<P>(
  input: MessageInput<P>,
  defaults: { source?: string; now: Date },
): Message<P> {
  if (input === null || typeof input !== 'object') {
    throw new MessageboxError('invalid_message', 'a message must be an object with `type` and `payload`');
  }
  const source = input.source ?? defaults.source;
  assertName('type', input.type);
  if (source === undefined) {
    throw new MessageboxError(
      'invalid_message',
      `message of type "${input.type}" has no source: pass \`source\` to the message or to createOutbox()`,
    );
  }
  assertName('source', source);
  const id = input.id ?? newMessageId();
  assertName('id', id);
  assertJsonValue(input.payload, `payload of "${input.type}"`);
  const headers = validateHeaders(input.headers ?? {}, input.type);
  const key = input.key;
  if (key !== undefined) assertOrderingKey(key, input.type);
  return Object.freeze({ id, source, type: input.type, payload: input.payload, headers, createdAt: defaults.now, ...(key !== undefined ? { key } : {}) });
}

/** Longest ordering key. */
export const MAX_ORDERING_KEY_LENGTH = 255;
/** Printable ASCII, no leading or trailing space (HTTP header values are trimmed). */
const ORDERING_KEY_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Throws `MessageboxError('invalid_message')` unless `key` is a valid
 * ordering key: a string of 1 to {@link MAX_ORDERING_KEY_LENGTH} printable
 * ASCII characters, spaces allowed inside only.
 */
export function assertOrderingKey(key: unknown, type: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_ORDERING_KEY_LENGTH || !ORDERING_KEY_PATTERN.test(key)) {
    throw new MessageboxError(
      'invalid_message',
      `key of ${quoteInput(type)} must be a string of 1 to ${MAX_ORDERING_KEY_LENGTH} printable ASCII characters (no leading or trailing space); got ${quoteInput(key)}`,
    );
  }
}

function assertName(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(value)) {
    throw new MessageboxError(
      'invalid_message',
      `message ${field} must be a non-empty string of printable ASCII without spaces, at most ${MAX_NAME_LENGTH} characters; got ${quoteInput(value)}`,
    );
  }
}

function validateHeaders(headers: Record<string, string>, type: string): Readonly<Record<string, string>> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new MessageboxError('invalid_message', `headers of "${type}" must be an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(key)) {
      throw new MessageboxError('invalid_message', `header name ${quoteInput(key)} of ${quoteInput(type)} is not a valid HTTP header name`);
    }
    if (typeof value === 'string' && HEADER_VALUE_FORBIDDEN.test(value)) {
      throw new MessageboxError('invalid_message', `header ${quoteInput(key)} of ${quoteInput(type)} must not contain control characters (line breaks, NUL, ESC, BEL…; tab is allowed)`);
    }
    if (typeof value !== 'string') {
      throw new MessageboxError('invalid_message', `header ${quoteInput(key)} of ${quoteInput(type)} must be a string, got ${typeof value}`);
    }
    out[key.toLowerCase()] = value;
  }
  return Object.freeze(out);
}
