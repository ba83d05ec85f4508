import type { Transport } from '@messagebox/core';
import { createFetchClient } from './fetch-client.js';
import type { HttpClientKind } from './http-client.js';
import type { HttpTransportOptions } from './http-transport-options.js';
import { createUndiciClient, undiciAvailable } from './undici-client.js';
import { createWebhookTransport } from './webhook-transport.js';

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
 * The engine is chosen once, here: undici's `Agent` on Node (see
 * {@link httpClientKind}), ofetch over the runtime's `fetch` on Bun, Deno,
 * Cloudflare Workers and edge runtimes (the same as {@link createFetchTransport}).
 * A bundle for a runtime without `node:` modules should import
 * `@messagebox/transport-http/fetch`, which never loads undici.
 *
 * @example
 * const transport = createHttpTransport({ url: 'http://127.0.0.1:3001/inbox', secret });
 * outbox.configure('payment.created', { transport });
 * // on shutdown: await transport.close();
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  return createWebhookTransport(options, undiciAvailable() ? createUndiciClient : createFetchClient);
}

/** The engine {@link createHttpTransport} uses in this runtime: `undici` on Node, `fetch` elsewhere. */
export function httpClientKind(): HttpClientKind {
  return undiciAvailable() ? 'undici' : 'fetch';
}
