export {
  createHttpTransport,
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type HttpTransportOptions,
} from './http-transport.js';
export { parseRetryAfter } from './retry-after.js';
