import { isTransportError, MessageboxError, quoteInput, TransportError, type Message, type SendBatchContext, type SendOutcome, type Transport } from '@messagebox/core';
import { jetstream, JetStreamApiError, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import { connectionHandle, type NatsConnectionOptions } from './nats-connection.js';
import { encodeNatsMessage } from './nats-wire-format.js';

/** Default deadline of one publish, until its PubAck: 10 s. */
export const DEFAULT_NATS_TIMEOUT_MS = 10_000;
/** Default bound on publishes awaiting their PubAck at once (the transport's `maxConcurrency`). */
export const DEFAULT_NATS_MAX_IN_FLIGHT = 256;

/** JetStream API error codes no retry can fix. */
const PERMANENT_API_CODES = new Set([
  10054, // message size exceeds the stream's max_msg_size
]);

/**
 * Options of {@link createNatsTransport}.
 *
 * @example
 * createNatsTransport({ servers: 'nats://127.0.0.1:4222', subject: (m) => `orders.${m.type}`, stream: 'ORDERS' })
 */
export interface NatsTransportOptions extends NatsConnectionOptions {
  /** The subject a message is published to. Default: its type (`payment.created`). Must be a literal subject (no `*`, `>`, spaces or empty tokens). */
  subject?: (message: Message) => string;
  /** When set, the PubAck must come from this stream (`Nats-Expected-Stream`); a publish another stream captured is refused and retried. */
  stream?: string;
  /** Deadline of one publish until its PubAck. Default 10 000 ms. */
  timeoutMs?: number;
  /** Most publishes awaiting their PubAck at once: the transport's `maxConcurrency`. Default 256. */
  maxInFlight?: number;
  /** Shown in logs. Default `"nats"`. */
  name?: string;
}

/**
 * One outcome of {@link NatsTransport.sendBatch}: core's `SendOutcome`,
 * with the stream's PubAck on a delivered one and a `TransportError` on a
 * failed one.
 */
export type NatsSendOutcome = (Extract<SendOutcome, { delivered: true }> & { ack: PubAck }) | (Extract<SendOutcome, { delivered: false }> & { error: TransportError });

/** @deprecated Core's `SendBatchContext` (the `Transport.sendBatch` port); kept as an alias. */
export type NatsSendBatchContext = SendBatchContext;

/** A {@link Transport} to JetStream, with a `sendBatch` that publishes concurrently. */
export interface NatsTransport extends Transport {
  /**
   * Publishes every message at once and waits for each PubAck: one outcome
   * per message, in order; never rejects as a whole. Implements core's
   * `Transport.sendBatch`, so a route configured with `batch` uses it.
   *
   * @example
   * outbox.configure('order.placed', { transport, batch: { maxMessages: 100 } });
   */
  sendBatch(messages: readonly Message[], context: SendBatchContext): Promise<NatsSendOutcome[]>;
  close(): Promise<void>;
}

/**
 * A {@link Transport} that publishes each message to JetStream and resolves
 * only on the stream's PubAck, i.e. once the stream stored it. The message
 * travels as headers (`Messagebox-Id`, `-Type`, `-Source`, `-Timestamp`,
 * `-Key`, `-Header-<name>`, `traceparent`) and a JSON body (the payload);
 * `Nats-Msg-Id` is `<source>:<id>`, so a resend within the stream's
 * duplicate window is dropped by JetStream itself (and acked as a duplicate).
 *
 * Outcomes: PubAck (new or duplicate) resolves. No stream captures the
 * subject (no responders), a timeout (`timedOut: true`), a lost connection,
 * a PubAck from another stream than `stream`, or any other JetStream error
 * reject with a retryable `TransportError`: a stream can be created or fixed
 * while the outbox backs off. A body over the server's `max_payload` or the
 * stream's `max_msg_size`, or a subject that is not a literal subject,
 * rejects with `retryable: false`. The client reconnects by itself
 * (forever, by default); publishes during a reconnect wait up to `timeoutMs`.
 *
 * @example
 * const transport = createNatsTransport({ servers: 'nats://127.0.0.1:4222', subject: (m) => `orders.${m.type}` });
 * outbox.configure('order.placed', { transport });
 */
export function createNatsTransport(options: NatsTransportOptions): NatsTransport {
  if (!options || typeof options !== 'object') throw new MessageboxError('invalid_options', 'createNatsTransport needs options');
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? DEFAULT_NATS_TIMEOUT_MS);
  const maxInFlight = positive('maxInFlight', options.maxInFlight ?? DEFAULT_NATS_MAX_IN_FLIGHT, true);
  if (options.subject !== undefined && typeof options.subject !== 'function') {
    throw new MessageboxError('invalid_options', 'createNatsTransport: subject must be a function of the message');
  }
  if (options.stream !== undefined && (typeof options.stream !== 'string' || !options.stream)) {
    throw new MessageboxError('invalid_options', 'createNatsTransport: stream must be a non-empty string');
  }
  const subjectOf = options.subject ?? ((message: Message) => message.type);
  const name = options.name ?? 'nats';
  const connection = connectionHandle(options, 'createNatsTransport');
  let client: Promise<JetStreamClient> | undefined;
  let closed = false;

  async function jetStream(message: Message): Promise<JetStreamClient> {
    client ??= connection.get().then((nc) => jetstream(nc, { timeout: timeoutMs }));
    try {
      return await client;
    } catch (error) {
      client = undefined;
      throw new TransportError(`[messagebox] transport "${name}" could not connect to NATS for message ${message.id}: ${describe(error)}`, {
        retryable: true,
        notAttempted: true,
        cause: error,
      });
    }
  }

  async function publish(message: Message, signal: AbortSignal | undefined): Promise<PubAck> {
    if (closed) throw new TransportError(`[messagebox] transport "${name}" is closed`, { retryable: true, notAttempted: true });
    if (signal?.aborted) throw new TransportError(`[messagebox] transport "${name}": aborted before publishing message ${message.id}`, { retryable: true, notAttempted: true });
    const subject = subjectOf(message);
    if (!isLiteralSubject(subject)) {
      throw new TransportError(`[messagebox] transport "${name}": message ${message.id} of type ${quoteInput(message.type)} maps to ${quoteInput(subject)}, not a literal NATS subject`, { retryable: false });
    }
    const js = await jetStream(message);
    const wire = encodeNatsMessage(message);
    try {
      return await js.publish(subject, wire.body, {
        headers: wire.headers,
        timeout: timeoutMs,
        ...(options.stream ? { expect: { streamName: options.stream } } : {}),
      });
    } catch (error) {
      throw publishFailure(error, message, subject);
    }
  }

  function publishFailure(error: unknown, message: Message, subject: string): TransportError {
    const what = `publish of message ${message.id} to ${quoteInput(subject)}`;
    if (isNoResponders(error)) {
      return new TransportError(`[messagebox] ${what} failed: no JetStream stream captures this subject (no responders)`, { retryable: true, cause: error });
    }
    if (error instanceof natsErrors.TimeoutError) {
      return new TransportError(`[messagebox] ${what} had no PubAck within ${timeoutMs} ms`, { retryable: true, timedOut: true, cause: error });
    }
    if (error instanceof JetStreamApiError) {
      return new TransportError(`[messagebox] ${what} was refused by JetStream: ${describe(error)} (code ${error.code})`, {
        retryable: !PERMANENT_API_CODES.has(error.code),
        status: error.status,
        cause: error,
      });
    }
    if (error instanceof natsErrors.InvalidArgumentError) {
      return new TransportError(`[messagebox] ${what} failed: ${describe(error)}`, { retryable: false, cause: error });
    }
    return new TransportError(`[messagebox] ${what} failed: ${describe(error)}`, { retryable: true, cause: error });
  }

  return {
    name,
    maxConcurrency: maxInFlight,
    async send(message, context) {
      await publish(message, context?.signal);
    },
    async sendBatch(messages, context) {
      const settled = await Promise.allSettled(messages.map((message) => publish(message, context?.signal)));
      return settled.map((result, i): NatsSendOutcome => {
        if (result.status === 'fulfilled') return { delivered: true, ack: result.value };
        const error = result.reason;
        return { delivered: false, error: isTransportError(error) ? error : publishFailure(error, messages[i]!, '?') };
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await connection.close();
    },
  };
}

/** A subject a message can be published to: dot-separated non-empty tokens, no wildcards or whitespace. */
export function isLiteralSubject(subject: unknown): subject is string {
  if (typeof subject !== 'string' || subject.length === 0 || /[\s\u0000-\u001f\u007f]/.test(subject)) return false;
  return subject.split('.').every((token) => token.length > 0 && token !== '*' && token !== '>');
}

/** `js.publish` reports no responders as `JetStreamNotEnabled`; no stream listening on the subject is the usual reason. */
function isNoResponders(error: unknown): boolean {
  for (let current = error, i = 0; current instanceof Error && i < 4; current = current.cause, i++) {
    if (current instanceof natsErrors.NoRespondersError || current.name === 'JetStreamNotEnabled') return true;
  }
  return false;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function positive(name: string, value: number, integer = false): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new MessageboxError('invalid_options', `createNatsTransport: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
  return value;
}
