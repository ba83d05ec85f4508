import {
  decodeWebhookBatchResponse,
  encodeWebhookBatchRequest,
  encodeWebhookRequest,
  escapeControlCharacters,
  quoteInput,
  TransportError,
  type Message,
  type SendBatchContext,
  type SendContext,
  type SendOutcome,
  type Transport,
  type WebhookRequest,
} from '@messagebox/core';
import { ConnectionGate, type GateOutcome } from './connection-gate.js';
import { AbortLinks, ExchangeAbort } from './exchange-abort.js';
import type { HttpAnswer, HttpClient, HttpClientSettings } from './http-client.js';
import { resolveHttpTransportOptions, type HttpTransportOptions } from './http-transport-options.js';
import { parseRetryAfter } from './retry-after.js';

/** Error codes (at the root of a failure's cause chain) that mean the receiver refused the connection: Node's, and Bun's fetch. */
const REFUSED = new Set(['ECONNREFUSED', 'ConnectionRefused']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The HTTP transport's behaviour, whatever engine carries the bytes: the
 * Standard Webhooks (and batch) wire format, the connection gate, the
 * deadline counted from holding a connection, and the classification of
 * answers and failures. `createHttpTransport` and `createFetchTransport`
 * only choose the {@link HttpClient}.
 */
export function createWebhookTransport(options: HttpTransportOptions, createClient: (settings: HttpClientSettings) => HttpClient): Transport {
  const resolved = resolveHttpTransportOptions(options);
  const { url, timeoutMs, queueTimeoutMs, maxConnections, isPermanent, clock, signer, name, headers: extraHeaders } = resolved;
  const client = createClient(resolved);
  const gate = new ConnectionGate(maxConnections, queueTimeoutMs);
  const where = `${url.origin}${url.pathname}`;
  const links = new AbortLinks();
  let closed = false;

  /** One POST through the connection gate, its deadline counted once it holds a connection; rejects with a `TransportError`. */
  async function exchange(request: WebhookRequest, external: AbortSignal | undefined, what: string, readAll: boolean): Promise<HttpAnswer> {
    if (closed) throw new TransportError(`[messagebox] transport "${name}" is closed`, { retryable: true });
    const waited = await gate.acquire(external);
    if (waited !== 'acquired') throw notSent(waited, what);
    const abort = new ExchangeAbort();
    const timer = setTimeout(() => abort.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    const unlink = links.link(external, abort);
    try {
      return await client.post({ url, headers: { ...extraHeaders, ...request.headers }, body: request.body, abort, readAll });
    } catch (error) {
      throw requestFailure(error, what, external);
    } finally {
      clearTimeout(timer);
      unlink();
      gate.release();
    }
  }

  /**
   * The failure a non-2xx answer means. `batch`: 413, 415 and 422 refused the
   * batch, not its messages (a messagebox receiver answers per message with
   * 200; one that predates batches reads the batch body as one malformed
   * message and answers 422), so they are retryable and the log says to turn
   * batching off for that receiver.
   */
  function statusFailure(answer: HttpAnswer, what: string, batch: boolean): TransportError {
    const { status, header } = answer;
    if (status >= 300 && status < 400) {
      const location = header('location');
      return new TransportError(
        `[messagebox] answered ${status} (redirect to ${location === null ? 'nowhere' : quoteInput(location, 200)}); redirects are not followed, fix the url (POST ${where}, ${what})`,
        { status, retryable: true },
      );
    }
    const text = snippet(answer.text);
    const retryAfterMs = parseRetryAfter(header('retry-after'), clock.now());
    if ((status === 503 || status === 429) && retryAfterMs !== undefined) {
      // Busy, not broken: the outbox pauses this destination for the time asked and does not count the attempt.
      return new TransportError(`[messagebox] destination busy (answered ${status}), retry after ${formatWait(retryAfterMs)}${text ? `: ${text}` : ''} (POST ${where}, ${what})`, {
        status,
        retryable: true,
        retryAfterMs,
        busy: true,
      });
    }
    const refusedBatch = batch && (status === 413 || status === 415 || status === 422);
    const hint = refusedBatch ? ` (the receiver refused the batch as a whole: lower the route's batch.maxMessages/maxBytes, or turn batching off for this receiver if it does not speak messagebox batches)` : '';
    // The cause first (status and body), then where and what: `dead list` and logs cut long errors at the end.
    return new TransportError(`[messagebox] answered ${status}${text ? `: ${text}` : ''}${hint} (POST ${where}, ${what})`, {
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
    let answer: HttpAnswer;
    try {
      const request = await encodeWebhookBatchRequest(messages, { signer, now: clock.now(), batchId });
      answer = await exchange(request, context?.signal, what, true);
    } catch (error) {
      return all(error);
    }
    if (answer.status < 200 || answer.status >= 300) return all(statusFailure(answer, what, true));
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
        error: new TransportError(`[messagebox] rejected: ${status} ${escapeControlCharacters(code).slice(0, 60)}${text ? `: ${text}` : ''} (POST ${where}, message ${result.id} of ${what})`, {
          status,
          retryable: isRetryableStatus(status),
        }),
      };
    });
  }

  function notSent(outcome: Exclude<GateOutcome, 'acquired'>, what: string): TransportError {
    const post = `POST ${where} for ${what}`;
    if (outcome === 'closed') return new TransportError(`[messagebox] transport "${name}" was closed before ${post} had a connection`, { retryable: true });
    const why =
      outcome === 'timeout'
        ? `no connection became free within ${queueTimeoutMs} ms (maxConnections ${maxConnections}, ${gate.waiting} more waiting)`
        : 'the send was aborted (shutdown) while it waited for a connection';
    return new TransportError(`[messagebox] ${post} was not sent: ${why}`, { retryable: true, notAttempted: true });
  }

  function requestFailure(error: unknown, what: string, external: AbortSignal | undefined): TransportError {
    const root = rootCause(error);
    const code = (root as { code?: unknown } | undefined)?.code;
    let reason: string;
    let timedOut = false;
    if (external?.aborted) reason = 'the send was aborted (shutdown)';
    else if (isTimeout(error) || TIMEOUT_CODES.has(code as string)) {
      reason = `no answer within ${timeoutMs} ms`;
      timedOut = true;
    } else if (REFUSED.has(code as string)) reason = 'connection refused';
    else reason = root instanceof Error ? root.message : String(root);
    return new TransportError(`[messagebox] ${reason} (POST ${where}, ${what})`, {
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
      await client.close();
    },
  };
}

/** A wait as people read it: "1.5 s", "2 min 5 s". */
function formatWait(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
}

/** An error answer's body as one short line, control characters escaped. */
function snippet(body: string): string {
  const text = escapeControlCharacters(body.replace(/\s+/g, ' ').trim());
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
