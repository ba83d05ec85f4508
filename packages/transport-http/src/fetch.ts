/** The fetch-only entry (`@messagebox/transport-http/fetch`): nothing here imports undici or a `node:` module. */
export { createFetchTransport } from './fetch-transport.js';
export { DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, type HttpTransportOptions } from './http-transport-options.js';
export { parseRetryAfter } from './retry-after.js';
