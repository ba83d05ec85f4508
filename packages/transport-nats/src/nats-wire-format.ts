import { MessageboxError, quoteInput, type JsonValue, type Message } from '@messagebox/core';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';

/**
 * NATS header names messagebox writes. Message headers travel as
 * `Messagebox-Header-<name>` so that no message header can pose as a
 * `Nats-*` header the server acts on; `traceparent` is also copied as is,
 * for NATS tooling that traces.
 */
export const NatsHeaderNames = Object.freeze({
  msgId: 'Nats-Msg-Id',
  id: 'Messagebox-Id',
  type: 'Messagebox-Type',
  source: 'Messagebox-Source',
  timestamp: 'Messagebox-Timestamp',
  key: 'Messagebox-Key',
  headerPrefix: 'Messagebox-Header-',
  traceparent: 'traceparent',
  deadReason: 'Messagebox-Dead-Reason',
  deadCode: 'Messagebox-Dead-Code',
  deadStream: 'Messagebox-Dead-Stream',
  deadSequence: 'Messagebox-Dead-Sequence',
  deadSubject: 'Messagebox-Dead-Subject',
});

/** A message as a NATS publish: headers and the JSON body (the payload). */
export interface NatsWireMessage {
  headers: MsgHdrs;
  body: string;
}

/**
 * The `Nats-Msg-Id` of a message: `<source>:<id>` with `%` and `:` of the
 * source percent-encoded, so two messages have the same one only when they
 * have the same `(source, id)`, the inbox's identity. JetStream drops a
 * second publish with the same `Nats-Msg-Id` within the stream's duplicate
 * window (default 2 minutes).
 */
export function natsMsgId(message: Pick<Message, 'source' | 'id'>): string {
  return `${message.source.replace(/%/g, '%25').replace(/:/g, '%3A')}:${message.id}`;
}

/** Encodes `message` for a JetStream publish (see {@link NatsHeaderNames}). */
export function encodeNatsMessage(message: Message): NatsWireMessage {
  const h = natsHeaders();
  h.set(NatsHeaderNames.msgId, natsMsgId(message));
  h.set(NatsHeaderNames.id, message.id);
  h.set(NatsHeaderNames.type, message.type);
  h.set(NatsHeaderNames.source, message.source);
  h.set(NatsHeaderNames.timestamp, message.createdAt.toISOString());
  if (message.key !== undefined) h.set(NatsHeaderNames.key, message.key);
  for (const [name, value] of Object.entries(message.headers)) h.set(`${NatsHeaderNames.headerPrefix}${name}`, value);
  const traceparent = message.headers['traceparent'];
  if (traceparent !== undefined) h.set(NatsHeaderNames.traceparent, traceparent);
  return { headers: h, body: JSON.stringify(message.payload) };
}

/**
 * Turns a JetStream message back into a {@link Message}, or throws a
 * `MessageboxError`: `invalid_message` when a `Messagebox-*` header is
 * missing or the timestamp is not a date, `invalid_payload` when the body
 * is not JSON. Field values are checked further by `inbox.receive`.
 */
export function decodeNatsMessage(input: { headers?: MsgHdrs | undefined; data: Uint8Array; subject: string }): Message {
  const h = input.headers;
  const required = (name: string): string => {
    const value = h?.get(name);
    if (!value) throw new MessageboxError('invalid_message', `NATS message on ${quoteInput(input.subject)} has no ${name} header`);
    return value;
  };
  const id = required(NatsHeaderNames.id);
  const type = required(NatsHeaderNames.type);
  const source = required(NatsHeaderNames.source);
  const timestamp = required(NatsHeaderNames.timestamp);
  const createdAt = new Date(timestamp);
  if (Number.isNaN(createdAt.getTime())) {
    throw new MessageboxError('invalid_message', `NATS message ${quoteInput(id)}: ${NatsHeaderNames.timestamp} is not a date: ${quoteInput(timestamp)}`);
  }
  let payload: JsonValue;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(input.data)) as JsonValue;
  } catch (cause) {
    throw new MessageboxError('invalid_payload', `NATS message ${quoteInput(id)} of type ${quoteInput(type)}: the body is not JSON`, { cause });
  }
  const headers: Record<string, string> = {};
  for (const name of h?.keys() ?? []) {
    if (name.length > NatsHeaderNames.headerPrefix.length && name.toLowerCase().startsWith(NatsHeaderNames.headerPrefix.toLowerCase())) {
      headers[name.slice(NatsHeaderNames.headerPrefix.length).toLowerCase()] = h!.get(name);
    }
  }
  const key = h?.get(NatsHeaderNames.key);
  return { id, type, source, payload, headers, createdAt, ...(key ? { key } : {}) };
}
