import type { Clock } from '../clock.js';
import { describeError, isMessageboxError, MessageboxError } from '../errors.js';
import type { Message } from '../message.js';
import { createConsoleLogger, type Logger } from '../ports/logger.js';
import { isPayloadValidationError } from '../catalog/validate-payload.js';
import { escapeControlCharacters, quoteInput, truncateText } from '../text.js';
import { InboxRequestError, isInboxRequestError, jsonResponse } from './inbox-request-error.js';
import { readBodyWithLimit } from './read-body.js';
import { isUnreadNodeBody, readNodeBody, type NodeRequestBody } from './read-node-body.js';
import { createWebhookVerifier, type WebhookVerifier } from './webhook-signature.js';
import { decodeWebhookBody, KEY_HEADER } from './wire-format.js';
import { BATCH_CONTENT_TYPE, BatchTooLargeError, decodeWebhookBatchBody, type WebhookBatchResult } from './batch-wire-format.js';
import { LoadShedder, type BacklogSource, type ShedEvent, type ShedLoadOptions } from './load-shedding.js';

/** Default largest request body the inbox endpoint reads: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const MAX_REPEATED_MESSAGE_LENGTH = 500;
/** Default most messages the inbox endpoint accepts in one batch request. */
export const DEFAULT_MAX_BATCH_MESSAGES = 1000;
/** Default largest batch request body the inbox endpoint reads: 4 MiB. */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Default time the inbox endpoint allows for reading a whole request body: 10 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * What the request handler needs from an inbox; `createInbox()` returns one.
 * `receive` must reject with `MessageboxError` code `unknown_type`,
 * `invalid_message`, `invalid_payload` or `handler_failed` for those cases;
 * any other rejection is taken as a store failure (503).
 */
export interface InboxReceiver {
  accepts(type: string): boolean;
  receive(message: Message): Promise<{ status: 'created' | 'duplicate' }>;
  /** Optional: where `shedLoad.maxBacklog` counts the backlog (an inbox's `store`). */
  readonly store?: BacklogSource;
  /** Optional: where the endpoint emits `shed` events (an inbox's `events`). */
  readonly events?: { emit(name: 'shed', event: ShedEvent): void };
}

/**
 * Options of {@link createInboxRequestHandler}. Give `secret`/`secrets`, or
 * set `allowUnsigned: true` to run without signatures on purpose.
 *
 * @example
 * createInboxRequestHandler(inbox, { secrets: [process.env.NEW_SECRET!, process.env.OLD_SECRET!] })
 */
export interface InboxRequestHandlerOptions {
  /** The `whsec_` secret (or several) senders sign with; requests signed with any of them are accepted. */
  secret?: string | readonly string[];
  /** More secrets, e.g. the old and new one during a rotation; merged with `secret`. */
  secrets?: readonly string[];
  /**
   * Accept requests without checking any signature. Only for endpoints that
   * nothing untrusted can reach; logs a warning when the handler is created.
   * Cannot be combined with a secret.
   */
  allowUnsigned?: boolean;
  /** Largest distance between `webhook-timestamp` and now, either way. Default 300 s. */
  toleranceSeconds?: number;
  /** Largest body read; a larger one answers 413 as soon as it is seen. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Time allowed to read the whole body, from when the endpoint starts
   * reading (not between chunks): a body still incomplete then answers 408
   * `body_timeout` and nothing is stored, so a client trickling bytes cannot
   * hold the request (and its buffer) for the server's own `requestTimeout`
   * (300 s in Node). Default 10 000 ms.
   */
  bodyTimeoutMs?: number;
  /**
   * Batches from messagebox senders (content type
   * `application/vnd.messagebox.batch+json`, see `WIRE-FORMAT.md`): most
   * messages per request (default 1000; more answers 413
   * `too_many_messages`) and largest body (default 4 MiB; more answers 413
   * `payload_too_large`). `false` refuses batches with 415.
   */
  batch?: { maxMessages?: number; maxBytes?: number } | false;
  /**
   * Load shedding: while the inbox's backlog (received, not yet handled) or
   * the receives in flight pass a bound, answer 503 (or 429) `overloaded`
   * with `Retry-After` before reading the body, storing nothing (see
   * {@link ShedLoadOptions}). Default: off.
   */
  shedLoad?: ShedLoadOptions | false;
  /** `source` of messages whose body has none (generic Standard Webhooks senders). Default `"webhook"`. */
  defaultSource?: string;
  /** Default: warnings and errors to the console. */
  logger?: Logger;
  /** Time source for the timestamp tolerance. */
  clock?: Clock;
}

/**
 * A Fetch handler: `Request` in, `Response` out. Never rejects. A server
 * adapter on Node.js may pass the request's Node body (`IncomingMessage`) as
 * `source.nodeBody`: the endpoint then reads the bytes from it, not through
 * `request.body`, as long as nothing read it before (see {@link NodeRequestBody}).
 */
export type InboxRequestHandler = (request: Request, source?: { nodeBody?: NodeRequestBody }) => Promise<Response>;

/** Reads the request's body within `maxBytes` (and the handler's `bodyTimeoutMs`). */
type BodyReader = (maxBytes: number) => Promise<Uint8Array>;

/**
 * The inbox HTTP endpoint as a Fetch handler, for any server that speaks
 * `Request`/`Response` (Hono, Bun, Deno, Cloudflare) and wrapped by
 * `@messagebox/hono` and `@messagebox/express`.
 *
 * Answers (JSON; errors as `{ "error": { "code", "message" } }`):
 *
 * | status | code                          | when                                                            |
 * |--------|-------------------------------|-----------------------------------------------------------------|
 * | 200    | body `{ status: "created" }`  | stored (and, in inline mode, handled)                           |
 * | 200    | body `{ status: "duplicate" }`| its (source, id) was already stored; nothing new stored         |
 * | 200    | body `{ results: [...] }`     | a batch: one result per message (`created`, `duplicate`, `rejected`) |
 * | 400    | `malformed_json`              | body not UTF-8 JSON                                             |
 * | 400    | `unreadable_body`             | the client broke off while sending                              |
 * | 401    | `missing_signature`           | a `webhook-*` header is missing                                 |
 * | 401    | `invalid_signature`           | no signature matches any secret over the raw body               |
 * | 401    | `timestamp_out_of_range`      | `webhook-timestamp` outside the tolerance                       |
 * | 405    | `method_not_allowed`          | not POST                                                        |
 * | 408    | `body_timeout`                | the body did not arrive whole within `bodyTimeoutMs`            |
 * | 413    | `payload_too_large`           | body over `maxBodyBytes` (batch: `batch.maxBytes`)              |
 * | 413    | `too_many_messages`           | a batch of more than `batch.maxMessages`                        |
 * | 415    | `unsupported_media_type`      | content type not `application/json` (or `+json`)                |
 * | 422    | `invalid_message`             | missing or ill-typed field, bad id, too deep                    |
 * | 422    | `invalid_payload`             | the type's schema (inbox `catalog`) refused the payload; body has `error.issues` |
 * | 422    | `invalid_batch`               | a batch body that is not `{ "messages": [ … ] }` with at least one |
 * | 422    | `unknown_type`                | no handler for the type and the inbox's `unknownTypes: 'reject'`|
 * | 500    | `handler_failed`              | inline mode: the handler threw; nothing stored, sender retries  |
 * | 500    | `body_already_read`           | a body parser ran before the endpoint (a mounting mistake)      |
 * | 503    | `store_unavailable`           | the inbox store failed; sender retries                          |
 * | 503/429| `overloaded`                  | `shedLoad`: backlog or receives in flight over a bound; `Retry-After` set, body not read |
 *
 * Every 4xx stores nothing. Checks run in the order of the table's causes:
 * method, content type, size, signature (before parsing anything), JSON, fields, type.
 *
 * A batch (content type `application/vnd.messagebox.batch+json`, signed
 * over the whole body with the batch id in `webhook-id`) is checked the same
 * way as a whole; then each message on its own: the valid ones are received
 * together (group commit: one transaction), the others answered `rejected`
 * with the code and status they would get alone, storing nothing for them.
 * A store failure answers 503 for the whole batch (nothing acknowledged).
 *
 * @example
 * const handle = createInboxRequestHandler(inbox, { secret: process.env.INBOX_SECRET! });
 * Bun.serve({ fetch: (request) => handle(request) });
 */
export function createInboxRequestHandler(inbox: InboxReceiver, options: InboxRequestHandlerOptions): InboxRequestHandler {
  if (!inbox || typeof inbox.receive !== 'function' || typeof inbox.accepts !== 'function') {
    throw new MessageboxError('invalid_options', 'createInboxRequestHandler needs an inbox (from createInbox())');
  }
  const logger = options?.logger ?? createConsoleLogger();
  const secrets = [
    ...(options?.secret === undefined ? [] : typeof options.secret === 'string' ? [options.secret] : options.secret),
    ...(options?.secrets ?? []),
  ];
  let verifier: WebhookVerifier | undefined;
  if (secrets.length > 0) {
    if (options.allowUnsigned) {
      throw new MessageboxError('invalid_options', 'inbox endpoint: give a secret or allowUnsigned: true, not both');
    }
    verifier = createWebhookVerifier({ secret: secrets, toleranceSeconds: options.toleranceSeconds, clock: options.clock });
  } else if (options?.allowUnsigned === true) {
    logger.warn({}, 'the inbox endpoint accepts UNSIGNED requests (allowUnsigned: true): anyone who can reach it can store messages');
  } else {
    throw new MessageboxError(
      'invalid_options',
      'inbox endpoint: pass `secret` (a "whsec_..." string shared with the senders), or `allowUnsigned: true` to run without signatures on purpose',
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new MessageboxError('invalid_options', 'inbox endpoint: maxBodyBytes must be a positive integer');
  }
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  if (!Number.isFinite(bodyTimeoutMs) || bodyTimeoutMs <= 0) {
    throw new MessageboxError('invalid_options', 'inbox endpoint: bodyTimeoutMs must be a positive number of milliseconds');
  }
  const batchLimits = resolveBatchLimits(options.batch);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  const encoder = new TextEncoder();
  const shedder =
    options.shedLoad === undefined || options.shedLoad === false
      ? undefined
      : new LoadShedder(options.shedLoad, { source: inbox.store, logger, emit: (event) => inbox.events?.emit('shed', event) });

  async function handle(request: Request, readBody: BodyReader): Promise<Response> {
    if (request.method !== 'POST') {
      throw new InboxRequestError('method_not_allowed', 405, `method ${request.method} is not allowed; send POST`, {
        headers: { allow: 'POST' },
      });
    }
    if (!shedder) return accept(request, readBody);
    const ticket = await shedder.admit(isBatchContentType(request.headers.get('content-type')));
    try {
      return await accept(request, readBody);
    } finally {
      ticket.done();
    }
  }

  async function accept(request: Request, readBody: BodyReader): Promise<Response> {
    const contentType = request.headers.get('content-type');
    if (isBatchContentType(contentType)) {
      if (!batchLimits) throw new InboxRequestError('unsupported_media_type', 415, 'this endpoint does not accept batches; send one message per request as application/json');
      return handleBatch(request, readBody, batchLimits);
    }
    if (!isJsonContentType(contentType)) {
      throw new InboxRequestError('unsupported_media_type', 415, 'the content type must be application/json');
    }
    const { id, timestamp, parsed } = await readSigned(request, readBody, maxBodyBytes);
    if (!id) throw new InboxRequestError('invalid_message', 422, 'the webhook-id header (the message id) is required');
    let message: Message;
    try {
      message = decodeWebhookBody(parsed, id, { defaultSource: options.defaultSource, fallbackTimestamp: timestamp, keyHeader: request.headers.get(KEY_HEADER) });
    } catch (cause) {
      throw new InboxRequestError('invalid_message', 422, messageOf(cause), { cause });
    }
    if (!inbox.accepts(message.type)) throw unknownType(message.type);

    let result: { status: 'created' | 'duplicate' };
    try {
      result = await inbox.receive(message);
    } catch (error) {
      throw receiveFailure(error, message);
    }
    logger.debug({ id: message.id, type: message.type, status: result.status }, 'inbox endpoint stored a message');
    return jsonResponse(200, { status: result.status, id: message.id });
  }

  /** Reads the body within `maxBytes`, verifies its signature over the raw bytes, then parses it as JSON. */
  async function readSigned(request: Request, readBody: BodyReader, maxBytes: number): Promise<{ id: string | null; timestamp: number | undefined; parsed: unknown; size: number }> {
    const bytes = await readBody(maxBytes);
    let id: string | null;
    let timestamp: number | undefined;
    if (verifier) ({ id, timestamp } = await verifier.verify(request.headers, bytes));
    else {
      id = request.headers.get('webhook-id');
      const header = request.headers.get('webhook-timestamp');
      if (header !== null && /^\d{1,15}$/.test(header)) timestamp = Number(header);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(bytes));
    } catch (cause) {
      throw new InboxRequestError('malformed_json', 400, 'the body is not valid UTF-8 JSON', { cause });
    }
    return { id, timestamp, parsed, size: bytes.byteLength };
  }

  async function handleBatch(request: Request, readBody: BodyReader, limits: { maxMessages: number; maxBytes: number }): Promise<Response> {
    const { id: batchId, timestamp, parsed, size } = await readSigned(request, readBody, limits.maxBytes);
    let items: ReturnType<typeof decodeWebhookBatchBody>;
    try {
      items = decodeWebhookBatchBody(parsed, { maxMessages: limits.maxMessages, defaultSource: options.defaultSource, fallbackTimestamp: timestamp });
    } catch (cause) {
      if (cause instanceof BatchTooLargeError) throw new InboxRequestError('too_many_messages', 413, messageOf(cause), { cause });
      throw new InboxRequestError('invalid_batch', 422, messageOf(cause), { cause });
    }
    const results: Array<WebhookBatchResult | undefined> = items.map((item) =>
      'error' in item ? rejected(item.id, new InboxRequestError('invalid_message', 422, messageOf(item.error), { cause: item.error })) : undefined,
    );
    // A message the endpoint would refuse alone for its size is refused in a batch too (only a body over maxBodyBytes can hold one).
    if (size > maxBodyBytes) {
      const raw = (parsed as { messages: unknown[] }).messages;
      items.forEach((item, i) => {
        if ('message' in item && encoder.encode(JSON.stringify(raw[i])).byteLength > maxBodyBytes) {
          results[i] = rejected(item.message.id, new InboxRequestError('payload_too_large', 413, `the message is larger than ${maxBodyBytes} bytes`));
          items[i] = { id: item.message.id, error: new MessageboxError('invalid_message', 'too large') };
        }
      });
    }
    // The first of several items with one (source, id) is received; the others are answered as its duplicates.
    const first = new Map<string, number>();
    const receiving: Array<{ index: number; message: Message }> = [];
    const repeats: Array<{ index: number; of: number }> = [];
    items.forEach((item, index) => {
      if (!('message' in item)) return;
      const { message } = item;
      if (!inbox.accepts(message.type)) return void (results[index] = rejected(message.id, unknownType(message.type)));
      const key = `${message.source}\u0000${message.id}`;
      const earlier = first.get(key);
      if (earlier !== undefined) return void repeats.push({ index, of: earlier });
      first.set(key, index);
      receiving.push({ index, message });
    });
    const received = await Promise.allSettled(receiving.map(({ message }) => inbox.receive(message)));
    let storeFailure: { error: unknown; message: Message } | undefined;
    received.forEach((outcome, i) => {
      const { index, message } = receiving[i]!;
      if (outcome.status === 'fulfilled') return void (results[index] = { id: message.id, status: outcome.value.status });
      const refusal = classify(outcome.reason, message);
      if (refusal.code === 'store_unavailable') storeFailure ??= { error: outcome.reason, message };
      else results[index] = rejected(message.id, refusal);
    });
    if (storeFailure) {
      logger.error(
        { batchId, messages: items.length, id: storeFailure.message.id, error: describeError(storeFailure.error) },
        'the inbox store failed during a batch; answering 503 so the sender retries every message',
      );
      throw new InboxRequestError('store_unavailable', 503, 'the inbox could not store the batch; retry later', { cause: storeFailure.error });
    }
    for (const { index, of } of repeats) {
      const original = results[of]!;
      results[index] = original.status === 'created' ? { ...original, status: 'duplicate' } : original;
    }
    logger.debug({ batchId, messages: items.length }, 'inbox endpoint answered a batch');
    return jsonResponse(200, { results });
  }

  /** What a failed receive answers with; logs nothing. */
  function classify(error: unknown, message: Message): InboxRequestError {
    const code = isMessageboxError(error) ? (error.code as string) : undefined;
    if (code === 'unknown_type') return unknownType(message.type);
    if (isPayloadValidationError(error)) return new InboxRequestError('invalid_payload', 422, messageOf(error), { cause: error, issues: error.issues });
    if (code === 'invalid_message' || code === 'invalid_payload') {
      return new InboxRequestError('invalid_message', 422, messageOf(error), { cause: error });
    }
    if (code === 'handler_failed') {
      logger.warn({ id: message.id, type: message.type, error: describeError(error) }, 'inline handler failed; answering 500 so the sender retries');
      return new InboxRequestError('handler_failed', 500, 'the handler failed; nothing was stored, retry later', { cause: error });
    }
    return new InboxRequestError('store_unavailable', 503, 'the inbox could not store the message; retry later', { cause: error });
  }

  function receiveFailure(error: unknown, message: Message): InboxRequestError {
    const refusal = classify(error, message);
    if (refusal.code === 'store_unavailable') {
      logger.error({ id: message.id, type: message.type, error: describeError(error) }, 'the inbox store failed; answering 503 so the sender retries');
    }
    return refusal;
  }

  return async (request, source) => {
    // A Node body nothing has read yet is read directly (no Fetch body stream); anything else through `request.body`.
    const nodeBody = source?.nodeBody && isUnreadNodeBody(source.nodeBody) ? source.nodeBody : undefined;
    const readBody: BodyReader = nodeBody
      ? (maxBytes) => readNodeBody(nodeBody, request.headers, maxBytes, bodyTimeoutMs)
      : (maxBytes) => readBodyWithLimit(request, maxBytes, bodyTimeoutMs);
    try {
      return await handle(request, readBody);
    } catch (error) {
      if (isInboxRequestError(error)) {
        if (error.status >= 500) {
          if (error.code === 'body_already_read') logger.error({ error: describeError(error) }, error.message);
        } else {
          logger.debug({ code: error.code, status: error.status }, `inbox endpoint rejected a request: ${error.message}`);
        }
        return error.getResponse();
      }
      logger.error({ error: describeError(error) }, 'the inbox endpoint failed unexpectedly');
      return new InboxRequestError('internal_error', 500, 'internal error', { cause: error }).getResponse();
    } finally {
      // Rejected before reading the body (405, 415, 413 by content-length): cancel it, so the
      // server drops the rest instead of leaving the connection stuck behind unread bytes.
      // A Node body read directly is left to the server, which drains what is unread.
      if (!nodeBody && !request.bodyUsed) request.body?.cancel().catch(() => {});
    }
  };
}

/** A rejection in a batch answer; an id too long to be valid is not repeated. */
function rejected(id: string | null, error: InboxRequestError): WebhookBatchResult {
  const message = error.message.replace(/^\[messagebox\] /, '');
  return { id: id !== null && id.length <= 256 ? id : null, status: 'rejected', error: { code: error.code, message, status: error.status, ...(error.issues ? { issues: error.issues } : {}) } };
}

function resolveBatchLimits(batch: InboxRequestHandlerOptions['batch']): { maxMessages: number; maxBytes: number } | undefined {
  if (batch === false) return undefined;
  const maxMessages = batch?.maxMessages ?? DEFAULT_MAX_BATCH_MESSAGES;
  const maxBytes = batch?.maxBytes ?? DEFAULT_MAX_BATCH_BYTES;
  if (!Number.isInteger(maxMessages) || maxMessages <= 0) {
    throw new MessageboxError('invalid_options', `inbox endpoint: batch.maxMessages must be a positive integer, got ${String(maxMessages)}`);
  }
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
    throw new MessageboxError('invalid_options', `inbox endpoint: batch.maxBytes must be a positive integer, got ${String(maxBytes)}`);
  }
  return { maxMessages, maxBytes };
}

function isBatchContentType(header: string | null): boolean {
  return !!header && header.split(';', 1)[0]!.trim().toLowerCase() === BATCH_CONTENT_TYPE;
}

function unknownType(type: string): InboxRequestError {
  return new InboxRequestError('unknown_type', 422, `no handler is registered for message type ${quoteInput(type)}`);
}

/** The message of a refusal, as the 422 repeats it: escaped and capped, whoever built it. */
function messageOf(error: unknown): string {
  return truncateText(escapeControlCharacters(error instanceof Error ? error.message : String(error)), MAX_REPEATED_MESSAGE_LENGTH);
}

function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const mediaType = header.split(';', 1)[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(mediaType);
}
