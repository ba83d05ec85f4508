import { ofetch } from 'ofetch';
import { MAX_RESPONSE_SNIPPET_BYTES, readBody, readModeFor, type HttpClient } from './http-client.js';

/**
 * An {@link HttpClient} on ofetch over the runtime's own `fetch` (Bun, Deno,
 * Cloudflare Workers, Vercel/Next.js edge, Node). Connections and keep-alive
 * are the runtime's: `connectTimeoutMs` and `keepAliveTimeoutMs` do not apply
 * (connecting counts against `timeoutMs`); the transport's connection gate
 * still bounds requests in flight to `maxConnections`.
 */
export function createFetchClient(): HttpClient {
  return {
    kind: 'fetch',
    async post({ url, headers, body, abort, readAll }) {
      const response = await ofetch.raw(url.href, {
        method: 'POST',
        headers,
        body,
        signal: abort.toSignal(),
        retry: 0,
        redirect: 'manual',
        ignoreResponseError: true,
        responseType: 'stream',
      });
      const stream = (response._data ?? null) as ReadableStream<Uint8Array> | null;
      const mode = readModeFor(response.status, readAll);
      let text = '';
      if (stream && mode === 'discard') await drain(stream);
      else if (stream && mode !== 'discard') {
        const body = webBody(stream);
        text = await readBody(body.chunks, mode, body.stop);
      }
      return { status: response.status, header: (key) => response.headers.get(key), text };
    },
    close: async () => undefined,
  };
}

/** Reads a small 2xx body to its end so the runtime can reuse the connection; a large one is cancelled. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  const body = webBody(stream);
  let total = 0;
  for await (const chunk of body.chunks) {
    total += chunk.byteLength;
    if (total > MAX_RESPONSE_SNIPPET_BYTES) return body.stop();
  }
}

/** A web stream's chunks, and a way to drop the rest (through its reader: a locked stream cannot be cancelled directly). */
function webBody(stream: ReadableStream<Uint8Array>): { chunks: AsyncIterable<Uint8Array>; stop: () => void } {
  const reader = stream.getReader();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  return { chunks: chunks(), stop: () => void reader.cancel().catch(() => undefined) };
}
