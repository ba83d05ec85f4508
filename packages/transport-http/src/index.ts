export { createHttpTransport, httpClientKind } from './http-transport.js';
export { createFetchTransport } from './fetch-transport.js';
export { DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, type HttpTransportOptions } from './http-transport-options.js';
export type { HttpClientKind } from './http-client.js';
export { parseRetryAfter } from './retry-after.js';
