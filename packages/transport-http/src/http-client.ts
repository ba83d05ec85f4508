import type { ExchangeAbort } from './exchange-abort.js';

/**
 * The one thing an HTTP transport's engine does: POST a request and read its
 * answer. `createUndiciClient` (Node, a pooled `undici` Agent) and
 * `createFetchClient` (ofetch over the runtime's `fetch`: Bun, Deno,
 * Cloudflare Workers, edge route handlers) implement it; everything else
 * (signing, the connection gate, deadlines, classifying answers) is shared
 * in `createWebhookTransport`.
 */
export interface HttpClient {
  /** Which engine this is, shown in logs and by `httpClientKind`. */
  readonly kind: HttpClientKind;
  /**
   * POSTs `body` to `url`. Never follows redirects. Reads the body as
   * {@link readModeFor} says (whole for a 2xx batch answer, nothing for
   * another 2xx, a bounded snippet otherwise). Rejects when the exchange
   * fails (refused, reset, aborted through `signal`, a body over its bound).
   */
  post(request: HttpClientRequest): Promise<HttpAnswer>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** `undici` (Node's Agent.request, the fast path) or `fetch` (any runtime with Fetch). */
export type HttpClientKind = 'undici' | 'fetch';

/** Settings an engine gets from the transport's options. */
export interface HttpClientSettings {
  maxConnections: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export interface HttpClientRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** Aborts the exchange (its deadline, or the caller's signal). */
  abort: ExchangeAbort;
  /** The caller needs the whole body of a 2xx answer (a batch's results). */
  readAll: boolean;
}

/** The answer to one request: status, a header reader, and the body text {@link readModeFor} asked for. */
export interface HttpAnswer {
  status: number;
  header(key: string): string | null;
  text: string;
}

/** Largest part of an error answer that is read (the rest is dropped). */
export const MAX_RESPONSE_SNIPPET_BYTES = 64 * 1024;
/** Largest 2xx answer to a batch that is read (one result per message). */
export const MAX_BATCH_RESPONSE_BYTES = 16 * 1024 * 1024;

/** How much of an answer with `status` to read. */
export function readModeFor(status: number, readAll: boolean): 'whole' | 'discard' | 'snippet' {
  const ok = status >= 200 && status < 300;
  if (ok) return readAll ? 'whole' : 'discard';
  return 'snippet';
}

/**
 * Reads `chunks` as UTF-8 text: `whole` rejects past {@link MAX_BATCH_RESPONSE_BYTES};
 * `snippet` stops at {@link MAX_RESPONSE_SNIPPET_BYTES} and gives '' when the
 * body fails; `discard` reads nothing. `stop` drops the rest of the body.
 */
export async function readBody(chunks: AsyncIterable<Uint8Array>, mode: 'whole' | 'snippet', stop: () => void): Promise<string> {
  const limit = mode === 'whole' ? MAX_BATCH_RESPONSE_BYTES : MAX_RESPONSE_SNIPPET_BYTES;
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of chunks) {
      total += chunk.byteLength;
      if (total > limit) {
        stop();
        if (mode === 'whole') throw new Error(`the answer is larger than ${limit} bytes`);
        break;
      }
      parts.push(chunk);
    }
  } catch (error) {
    if (mode === 'whole') throw error;
    return '';
  }
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
