import {
  createWebhookSigner,
  decodeWebhookBatchResponse,
  encodeWebhookBatchRequest,
  encodeWebhookRequest,
  escapeControlCharacters,
  MessageboxError,
  quoteInput,
  systemClock,
  TransportError,
  type Clock,
  type Message,
  type SendBatchContext,
  type SendContext,
  type SendOutcome,
  type Transport,
  type WebhookRequest,
  type WebhookSigner,
} from '@messagebox/core';
import { Agent, type Dispatcher } from 'undici';
import { ConnectionGate, type GateOutcome } from './connection-gate.js';
import { parseRetryAfter } from './retry-after.js';

/** Default whole-request timeout: 10 s. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
/** Default bound on sockets open to the receiver at once. */
export const DEFAULT_MAX_CONNECTIONS = 10;
const MAX_RESPONSE_SNIPPET_BYTES = 64 * 1024;
/** Largest 2xx answer to a batch that is read (one result per message). */
const MAX_BATCH_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Options of {@link createHttpTransport}.
 *
 * @example
 * createHttpTransport({ url: 'https://ledger.internal/inbox', secret: process.env.LEDGER_SECRET })
 */
export interface HttpTransportOptions {
  /** The receiver's inbox endpoint (http or https). */
  url: string | URL;
  /**
   * The `whsec_` secret shared with the receiver; each request is signed
   * with it (Standard Webhooks). Several: one signature per secret, for key
   * rotation. Omit only for a receiver that runs with `allowUnsigned`.
   */
  secret?: string | readonly string[] | undefined;
  /**
   * Deadline of one request, counted from the moment it holds one of the
   * `maxConnections` connections (connect, send, response headers and body).
   * Time spent waiting for a free connection is not part of it (see
   * `queueTimeoutMs`). Default 10 000 ms.
   */
  timeoutMs?: number;
  /**
   * Longest wait for a free connection when `maxConnections` requests are
   * already running. When it runs out the request is not sent: `send()`
   * rejects with a retryable `TransportError` with `notAttempted: true`,
   * which the outbox does not count as an attempt. Default: `timeoutMs`.
   */
  queueTimeoutMs?: number;
  /** Time allowed to establish the connection. Default: `timeoutMs`. */
  connectTimeoutMs?: number;
  /** Extra request headers (e.g. `authorization`); cannot override `content-type` or `webhook-*`. */
  headers?: Record<string, string>;
  /**
   * Most sockets kept open to the receiver, and so most requests in flight
   * (keep-alive; requests wait beyond it, see `queueTimeoutMs`). Exposed as
   * the transport's `maxConcurrency`, so an outbox never runs more attempts
   * at once to it. Default 10.
   */
  maxConnections?: number;
  /** How long an idle kept-alive socket stays open. Default 4 000 ms. */
  keepAliveTimeoutMs?: number;
  /**
   * Statuses that make the message dead at once (no retry can help). Default:
   * every 4xx except 408 and 429. A list, or a predicate over the status.
   */
  permanentStatuses?: readonly number[] | ((status: number) => boolean);
  /** Shown in logs. Default `"http"`. */
  name?: string;
  /** Time source for `webhook-timestamp` and HTTP-date `Retry-After`. */
  clock?: Clock;
}

/**
 * A {@link Transport} that POSTs each message to `url` in the Standard
 * Webhooks format (see `encodeWebhookRequest` in `@messagebox/core`), over a
 * keep-alive connection pool of at most `maxConnections` sockets. A request
 * first waits (up to `queueTimeoutMs`) for one of them; its deadline
 * (`timeoutMs`) starts only then, so a queue of requests cannot time out
 * requests that never reached the receiver.
 *
 * Outcomes: 2xx delivered. 408, 429, 5xx, 3xx (redirects are never
 * followed), timeouts and connection errors reject with a retryable
 * `TransportError` (with `retryAfterMs` from `Retry-After`, in seconds or as
 * an HTTP date; timeouts with `timedOut: true`). Other 4xx reject with
 * `retryable: false` (see `permanentStatuses`). A request that found no free
 * connection within `queueTimeoutMs` was not sent: `notAttempted: true`.
 *
 * @example
 * const transport = createHttpTransport({ url: 'http://127.0.0.1:3001/inbox', secret });
 * outbox.configure('payment.created', { transport });
 * // on shutdown: await transport.close();
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  const url = parseUrl(options?.url);
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs ?? timeoutMs);
  const queueTimeoutMs = positive('queueTimeoutMs', options.queueTimeoutMs ?? timeoutMs);
  const maxConnections = positive('maxConnections', options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, true);
  const keepAliveTimeoutMs = positive('keepAliveTimeoutMs', options.keepAliveTimeoutMs ?? 4_000);
  const isPermanent = permanentPredicate(options.permanentStatuses);
  const clock = options.clock ?? systemClock;
  const signer: WebhookSigner | undefined =
    options.secret === undefined ? undefined : createWebhookSigner({ secret: options.secret });
  const extraHeaders = { 'user-agent': 'messagebox', ...lowerCaseKeys(options.headers ?? {}) };
  const agent = new Agent({
    connections: maxConnections,
    pipelining: 1,
    connect: { timeout: connectTimeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
  });
  const gate = new ConnectionGate(maxConnections, queueTimeoutMs);
  const name = options.name ?? 'http';
  let closed = false;

  /** The answer to one request: status, a header reader, and the body (whole for a batch's 2xx, else a snippet). */
  interface Answer {
    status: number;
    header: (key: string) => string | null;
    text: string;
  }

  /** One POST through the connection gate, its deadline counted once it holds a connection; rejects with a `TransportError`. */
  async function exchange(request: WebhookRequest, external: AbortSignal | undefined, what: string, readAll: boolean): Promise<Answer> {
    if (closed) throw new TransportError(`[messagebox] transport "${name}" is closed`, { retryable: true });
    const waited = await gate.acquire(external);
    if (waited !== 'acquired') throw notSent(waited, what);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    const onExternalAbort = () => deadline.abort(external?.reason);
    if (external?.aborted) onExternalAbort();
    else external?.addEventListener('abort', onExternalAbort, { once: true });
    let response: Dispatcher.ResponseData;
    let text = '';
    try {
      response = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...extraHeaders, ...request.headers },
        body: request.body,
        signal: deadline.signal,
      });
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      if (ok && readAll) text = await readWhole(response.body, MAX_BATCH_RESPONSE_BYTES);
      else if (ok) await response.body.dump();
      else text = await readSnippet(response.body);
    } catch (error) {
      throw requestFailure(error, what, external);
    } finally {
      clearTimeout(timer);
      external?.removeEventListener('abort', onExternalAbort);
      gate.release();
    }
    const { headers } = response;
    const header = (key: string) => {
      const value = headers[key];
      return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
    };
    return { status: response.statusCode, header, text };
  }

  /**
   * The failure a non-2xx answer means. `batch`: 413, 415 and 422 refused the
   * batch, not its messages (a messagebox receiver answers per message with
   * 200; one that predates batches reads the batch body as one malformed
   * message and answers 422), so they are retryable and the log says to turn
   * batching off for that receiver.
   */
  function statusFailure(answer: Answer, what: string, batch: boolean): TransportError {
    const { status, header, text } = answer;
    const where = `${url.origin}${url.pathname}`;
    if (status >= 300 && status < 400) {
      return new TransportError(
        `[messagebox] ${where} answered ${status} (redirect to ${header('location') === null ? 'nowhere' : quoteInput(header('location'), 200)}); redirects are not followed, fix the url`,
        { status, retryable: true },
      );
    }
    const retryAfterMs = parseRetryAfter(header('retry-after'), clock.now());
    const refusedBatch = batch && (status === 413 || status === 415 || status === 422);
    const hint = refusedBatch ? ` (the receiver refused the batch as a whole: lower the route's batch.maxMessages/maxBytes, or turn batching off for this receiver if it does not speak messagebox batches)` : '';
    return new TransportError(`[messagebox] ${where} answered ${status} for ${what}${hint}${text ? `: ${text}` : ''}`, {
      status,
      retryable: refusedBatch || isRetryableStatus(status),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }

  function isRetryableStatus(status: number): boolean {
    return status === 408 || status === 429 || status >= 500 || !isPermanent(status);
  }

  async function send(message: Message, context: SendContext): Promise<void> {
    const request = await encodeWebhookRequest(message, { signer, now: clock.now() });
    const what = `message ${message.id}`;
    const answer = await exchange(request, context?.signal, what, false);
    if (answer.status >= 200 && answer.status < 300) return;
    throw statusFailure(answer, what, false);
  }

  async function sendBatch(messages: readonly Message[], context: SendBatchContext): Promise<SendOutcome[]> {
    const all = (error: unknown): SendOutcome[] => messages.map(() => ({ delivered: false, error }));
    if (messages.length === 0) return [];
    const batchId = `batch_${globalThis.crypto.randomUUID().replace(/-/g, '')}`;
    const what = `batch ${batchId} of ${messages.length} messages`;
    let answer: Answer;
    try {
      const request = await encodeWebhookBatchRequest(messages, { signer, now: clock.now(), batchId });
      answer = await exchange(request, context?.signal, what, true);
    } catch (error) {
      return all(error);
    }
    if (answer.status < 200 || answer.status >= 300) return all(statusFailure(answer, what, true));
    const where = `${url.origin}${url.pathname}`;
    let results: ReturnType<typeof decodeWebhookBatchResponse>;
    try {
      results = decodeWebhookBatchResponse(JSON.parse(answer.text), messages);
    } catch (cause) {
      const reason = cause instanceof SyntaxError ? 'the answer is not JSON' : cause instanceof Error ? cause.message.replace(/^\[messagebox\] /, '') : String(cause);
      return all(new TransportError(`[messagebox] ${where} answered ${answer.status} to ${what}, but ${escapeControlCharacters(reason)}; every message will be retried`, { status: answer.status, retryable: true, cause }));
    }
    return results.map((result): SendOutcome => {
      if (result.status !== 'rejected') return { delivered: true };
      const { code, message, status } = result.error;
      const text = escapeControlCharacters(message).slice(0, 300);
      return {
        delivered: false,
        error: new TransportError(`[messagebox] ${where} rejected message ${result.id} of ${what}: ${status} ${escapeControlCharacters(code).slice(0, 60)}${text ? `: ${text}` : ''}`, {
          status,
          retryable: isRetryableStatus(status),
        }),
      };
    });
  }

  function notSent(outcome: Exclude<GateOutcome, 'acquired'>, what: string): TransportError {
    const where = `POST ${url.origin}${url.pathname} for ${what}`;
    if (outcome === 'closed') return new TransportError(`[messagebox] transport "${name}" was closed before ${where} had a connection`, { retryable: true });
    const why =
      outcome === 'timeout'
        ? `no connection became free within ${queueTimeoutMs} ms (maxConnections ${maxConnections}, ${gate.waiting} more waiting)`
        : 'the send was aborted (shutdown) while it waited for a connection';
    return new TransportError(`[messagebox] ${where} was not sent: ${why}`, { retryable: true, notAttempted: true });
  }

  function requestFailure(error: unknown, what: string, external: AbortSignal | undefined): TransportError {
    const where = `${url.origin}${url.pathname}`;
    const root = rootCause(error);
    const code = (root as { code?: unknown } | undefined)?.code;
    let reason: string;
    let timedOut = false;
    if (external?.aborted) reason = 'the send was aborted (shutdown)';
    else if (isTimeout(error) || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      reason = `no answer within ${timeoutMs} ms`;
      timedOut = true;
    } else if (code === 'ECONNREFUSED') reason = 'connection refused';
    else reason = root instanceof Error ? root.message : String(root);
    return new TransportError(`[messagebox] POST ${where} for ${what} failed: ${reason}`, {
      retryable: true,
      timedOut,
      cause: error,
    });
  }

  return {
    name,
    maxConcurrency: maxConnections,
    send,
    sendBatch,
    async close() {
      if (closed) return;
      closed = true;
      gate.close();
      await agent.destroy();
    },
  };
}

async function readWhole(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).byteLength;
    if (total > maxBytes) {
      body.destroy();
      throw new Error(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      total += (chunk as Buffer).byteLength;
      if (total > MAX_RESPONSE_SNIPPET_BYTES) {
        body.destroy();
        break;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return '';
  }
  const text = escapeControlCharacters(new TextDecoder().decode(Buffer.concat(chunks)).replace(/\s+/g, ' ').trim());
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

function rootCause(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 5; i++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  return current;
}

function isTimeout(error: unknown): boolean {
  for (let current = error, i = 0; current && i < 6; current = (current as { cause?: unknown }).cause, i++) {
    if ((current as { name?: unknown }).name === 'TimeoutError') return true;
  }
  return false;
}

function parseUrl(value: string | URL | undefined): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch (cause) {
    throw new MessageboxError('invalid_options', `createHttpTransport: url must be an absolute http(s) URL, got ${String(value)}`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MessageboxError('invalid_options', `createHttpTransport: url must use http or https, got ${url.protocol}`);
  }
  return url;
}

function positive(name: string, value: number, integer = false): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new MessageboxError('invalid_options', `createHttpTransport: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
  return value;
}

function permanentPredicate(option: HttpTransportOptions['permanentStatuses']): (status: number) => boolean {
  if (typeof option === 'function') return option;
  if (Array.isArray(option)) {
    const set = new Set(option);
    return (status) => set.has(status);
  }
  return (status) => status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
