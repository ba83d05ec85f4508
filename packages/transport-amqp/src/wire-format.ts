import { createMessage, MessageboxError, quoteInput, type JsonValue, type Message } from '@messagebox/core';
import type { Message as AmqpMessage, Options } from 'amqplib';

/** Header with the message's creation time as ISO 8601 (the AMQP `timestamp` property has only seconds). */
export const CREATED_AT_HEADER = 'x-messagebox-created-at';
/** Header with the message's ordering key, when it has one. */
export const KEY_HEADER = 'x-messagebox-key';
/** Header a dead-lettered message carries: why it can never be stored (escaped, at most 1,000 characters). */
export const DEAD_LETTER_REASON_HEADER = 'x-messagebox-reason';
/** Header a dead-lettered message carries: the `MessageboxError` code (`invalid_message`, `invalid_payload`, `unknown_type`). */
export const DEAD_LETTER_CODE_HEADER = 'x-messagebox-error-code';
/** Header a dead-lettered message carries: the queue it was consumed from. */
export const DEAD_LETTER_QUEUE_HEADER = 'x-messagebox-queue';

/** Header a dead-lettered message carries: a unique id of that copy. */
export const DEAD_LETTER_ID_HEADER = 'x-messagebox-dead-letter-id';

/** Headers the broker adds (dead-lettering, quorum queues) or messagebox owns: never part of the message's own headers. */
const RESERVED_HEADER = /^(x-messagebox-|x-death$|x-first-death-|x-last-death-|x-delivery-count$)/;

/**
 * The AMQP publish options of `message`: persistent, `application/json`,
 * `messageId` = id, `type` = type, `appId` = source, `timestamp` = creation
 * time in Unix seconds, and as headers the message's own headers (e.g.
 * `traceparent`) plus {@link CREATED_AT_HEADER} and, when the message has a
 * key, {@link KEY_HEADER}.
 */
export function encodeAmqpProperties(message: Message, options: { mandatory: boolean }): Options.Publish {
  const headers: Record<string, string> = { ...message.headers, [CREATED_AT_HEADER]: message.createdAt.toISOString() };
  if (message.key !== undefined) headers[KEY_HEADER] = message.key;
  return {
    persistent: true,
    mandatory: options.mandatory,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    messageId: message.id,
    type: message.type,
    appId: message.source,
    timestamp: Math.floor(message.createdAt.getTime() / 1000),
    headers,
  };
}

/** The body of `message` on the wire: its payload as JSON text. */
export function encodeAmqpBody(message: Message): Buffer {
  return Buffer.from(JSON.stringify(message.payload), 'utf8');
}

/**
 * Turns a delivered AMQP message back into a {@link Message} (its ordering
 * key from {@link KEY_HEADER}), or throws
 * `MessageboxError('invalid_message' | 'invalid_payload')`: no `messageId`
 * or `type`, no `appId` and no `defaultSource`, a header that is not a
 * string, a key that is not a valid ordering key, a content type other than
 * JSON, a body that is not JSON.
 *
 * @example
 * const message = decodeAmqpMessage(delivery, { defaultSource: 'billing' });
 */
export function decodeAmqpMessage(delivery: AmqpMessage, options: { defaultSource?: string | undefined } = {}): Message {
  const { properties } = delivery;
  if (typeof properties.messageId !== 'string') throw invalid('the AMQP message has no message-id property');
  if (typeof properties.type !== 'string') throw invalid(`message ${quoteInput(properties.messageId)} has no type property`);
  const source = typeof properties.appId === 'string' ? properties.appId : options.defaultSource;
  if (source === undefined) throw invalid(`message ${quoteInput(properties.messageId)} has no app-id property (its source) and the consumer has no defaultSource`);
  const contentType = properties.contentType;
  if (contentType !== undefined && (typeof contentType !== 'string' || !/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType))) {
    throw new MessageboxError('invalid_payload', `message ${quoteInput(properties.messageId)} has content type ${quoteInput(contentType)}, expected application/json`);
  }
  let payload: JsonValue;
  try {
    payload = JSON.parse(delivery.content.toString('utf8')) as JsonValue;
  } catch (error) {
    throw new MessageboxError('invalid_payload', `the body of message ${quoteInput(properties.messageId)} is not JSON`, { cause: error });
  }
  const headers: Record<string, string> = {};
  let createdAt: Date | undefined;
  let key: unknown;
  for (const [name, value] of Object.entries(properties.headers ?? {})) {
    if (name === KEY_HEADER) {
      key = value;
      continue;
    }
    if (name === CREATED_AT_HEADER && typeof value === 'string') {
      const parsed = new Date(value);
      if (!Number.isNaN(parsed.getTime())) createdAt = parsed;
      continue;
    }
    if (RESERVED_HEADER.test(name)) continue;
    if (typeof value !== 'string') throw invalid(`header ${quoteInput(name)} of message ${quoteInput(properties.messageId)} must be a string`);
    headers[name] = value;
  }
  if (!createdAt && typeof properties.timestamp === 'number') createdAt = new Date(properties.timestamp * 1000);
  return createMessage(
    { id: properties.messageId, type: properties.type, source, payload, headers, ...(key !== undefined ? { key: key as string } : {}) },
    { now: createdAt ?? new Date() },
  );
}

function invalid(message: string): MessageboxError {
  return new MessageboxError('invalid_message', message);
}
