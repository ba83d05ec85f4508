import type { PayloadIssue } from '../catalog/validate-payload.js';

/** Why the inbox endpoint refused a request; the `code` of the JSON error body. */
export type InboxRequestErrorCode =
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'body_timeout'
  | 'unreadable_body'
  | 'malformed_json'
  | 'invalid_message'
  | 'invalid_payload'
  | 'invalid_batch'
  | 'too_many_messages'
  | 'unknown_type'
  | 'missing_signature'
  | 'invalid_signature'
  | 'timestamp_out_of_range'
  | 'body_already_read'
  | 'handler_failed'
  | 'store_unavailable'
  | 'overloaded'
  | 'internal_error';

/**
 * An error the inbox endpoint answers with. It renders itself as a `Response`
 * (like Hono's `HTTPException`): status `status`, JSON body
 * `{ "error": { "code", "message" } }`, plus any `headers`.
 *
 * @example
 * try { ... } catch (err) {
 *   if (isInboxRequestError(err)) return err.getResponse();
 *   throw err;
 * }
 */
const INBOX_REQUEST_ERROR = Symbol.for('@messagebox/core/InboxRequestError');

export class InboxRequestError extends Error {
  override readonly name: string = 'InboxRequestError';
  readonly code: InboxRequestErrorCode;
  /** The HTTP status this error answers with (4xx for bad input, 5xx when a retry can help). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** For `invalid_payload`: what the type's schema found wrong, sent in the body as `error.issues`. */
  readonly issues: readonly PayloadIssue[] | undefined;

  constructor(
    code: InboxRequestErrorCode,
    status: number,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string>; issues?: readonly PayloadIssue[] } = {},
  ) {
    super(message.startsWith('[messagebox]') ? message : `[messagebox] ${message}`, { cause: options.cause });
    this.code = code;
    this.status = status;
    this.headers = Object.freeze({ ...options.headers });
    this.issues = options.issues;
    Object.defineProperty(this, INBOX_REQUEST_ERROR, { value: true });
  }

  /** The JSON error response; the message is sent without its `[messagebox] ` prefix. */
  getResponse(): Response {
    const message = this.message.replace(/^\[messagebox\] /, '');
    return jsonResponse(this.status, { error: { code: this.code, message, ...(this.issues ? { issues: this.issues } : {}) } }, this.headers);
  }
}

/**
 * Whether `error` is an {@link InboxRequestError} (from any copy of
 * `@messagebox/core`; `instanceof` fails across copies).
 *
 * @example
 * if (isInboxRequestError(err)) return err.getResponse();
 */
export function isInboxRequestError(error: unknown): error is InboxRequestError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[INBOX_REQUEST_ERROR] === true;
}

/** @internal */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}
