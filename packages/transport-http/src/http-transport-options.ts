import { createWebhookSigner, MessageboxError, systemClock, type Clock, type WebhookSigner } from '@messagebox/core';
import type { HttpClientSettings } from './http-client.js';

/** Default whole-request timeout: 10 s. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
/** Default bound on sockets open to the receiver at once. */
export const DEFAULT_MAX_CONNECTIONS = 10;

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

/** The options of an HTTP transport, checked, with their defaults applied. */
export interface ResolvedHttpTransportOptions extends HttpClientSettings {
  url: URL;
  queueTimeoutMs: number;
  isPermanent: (status: number) => boolean;
  clock: Clock;
  signer: WebhookSigner | undefined;
  headers: Record<string, string>;
  name: string;
}

/** Checks `options` (a clear `invalid_options` error for each bad one) and applies the defaults. */
export function resolveHttpTransportOptions(options: HttpTransportOptions): ResolvedHttpTransportOptions {
  const url = parseUrl(options?.url);
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS);
  return {
    url,
    timeoutMs,
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs ?? timeoutMs),
    queueTimeoutMs: positive('queueTimeoutMs', options.queueTimeoutMs ?? timeoutMs),
    maxConnections: positive('maxConnections', options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, true),
    keepAliveTimeoutMs: positive('keepAliveTimeoutMs', options.keepAliveTimeoutMs ?? 4_000),
    isPermanent: permanentPredicate(options.permanentStatuses),
    clock: options.clock ?? systemClock,
    signer: options.secret === undefined ? undefined : createWebhookSigner({ secret: options.secret }),
    headers: { 'user-agent': 'messagebox', ...lowerCaseKeys(options.headers ?? {}) },
    name: options.name ?? 'http',
  };
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
