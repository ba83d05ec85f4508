import type { Transport } from '@messagebox/core';
import { createFetchClient } from './fetch-client.js';
import type { HttpTransportOptions } from './http-transport-options.js';
import { createWebhookTransport } from './webhook-transport.js';

/**
 * The HTTP transport of `createHttpTransport` (same options, wire format,
 * signing, `Retry-After`, deadlines and error classes) on ofetch over the
 * runtime's `fetch`, for Bun, Deno, Cloudflare Workers (no `nodejs_compat`
 * needed) and edge route handlers. `maxConnections` bounds the requests in
 * flight; the sockets and their keep-alive are the runtime's, so
 * `connectTimeoutMs` and `keepAliveTimeoutMs` do not apply (connecting counts
 * against `timeoutMs`). Import it from `@messagebox/transport-http/fetch`
 * in a bundle that must not contain undici.
 *
 * @example
 * import { createFetchTransport } from '@messagebox/transport-http/fetch';
 * const transport = createFetchTransport({ url: env.LEDGER_URL, secret: env.LEDGER_SECRET });
 */
export function createFetchTransport(options: HttpTransportOptions): Transport {
  return createWebhookTransport(options, createFetchClient);
}
