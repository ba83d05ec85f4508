import { MessageboxError } from '../errors.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { base64Encode, createHmacSha256, type HmacSha256 } from './hmac-sha256.js';
import { InboxRequestError } from './inbox-request-error.js';

/** Prefix of a Standard Webhooks secret: `whsec_<base64 of the key bytes>`. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Default tolerance between a request's `webhook-timestamp` and the receiver's clock: ±5 minutes. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;
const MIN_SECRET_BYTES = 16;

/** Code of a {@link WebhookVerificationError}. */
export type WebhookVerificationErrorCode = 'missing_signature' | 'invalid_signature' | 'timestamp_out_of_range';

/**
 * A request whose Standard Webhooks signature does not check out. Answers 401.
 *
 * @example
 * try { await verifier.verify(request.headers, body) }
 * catch (err) { if (isInboxRequestError(err)) return err.getResponse() }
 */
export class WebhookVerificationError extends InboxRequestError {
  override readonly name = 'WebhookVerificationError';
  declare readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(code, 401, message);
  }
}

/**
 * Decodes a `whsec_<base64>` secret into its key bytes. Throws
 * `MessageboxError('invalid_options')` for anything else, or a key under 16 bytes.
 *
 * @example
 * parseWebhookSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') // 24 bytes
 */
export function parseWebhookSecret(secret: string): Uint8Array<ArrayBuffer> {
  if (typeof secret !== 'string' || !secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    throw new MessageboxError('invalid_options', 'a webhook secret must look like "whsec_<base64>"');
  }
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) throw new Error('not base64');
    bytes = base64Decode(encoded);
  } catch (cause) {
    throw new MessageboxError('invalid_options', 'a webhook secret must be "whsec_" followed by base64', { cause });
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new MessageboxError(
      'invalid_options',
      `a webhook secret must hold at least ${MIN_SECRET_BYTES} bytes of key (got ${bytes.length}); generate one with generateWebhookSecret()`,
    );
  }
  return bytes;
}

/**
 * A new random secret (32 bytes) in `whsec_<base64>` form, for sender and receiver to share.
 *
 * @example
 * console.log(generateWebhookSecret()) // whsec_8nq3...
 */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + base64Encode(crypto.getRandomValues(new Uint8Array(32)));
}

/** What is signed: the id, the timestamp (Unix seconds) and the exact body bytes. */
export interface WebhookSignInput {
  id: string;
  timestamp: number;
  body: string | Uint8Array;
}

/** Signs Standard Webhooks requests; see {@link createWebhookSigner}. */
export interface WebhookSigner {
  /**
   * The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
   * one space-separated signature per secret.
   */
  sign(input: WebhookSignInput): Promise<string>;
}

/**
 * Creates a signer over one or several `whsec_` secrets (several during a key
 * rotation: the receiver accepts any one that matches). Uses WebCrypto only.
 *
 * @example
 * const signer = createWebhookSigner({ secret: process.env.WEBHOOK_SECRET! });
 * const signature = await signer.sign({ id: 'msg_1', timestamp: Math.floor(Date.now() / 1000), body });
 */
export function createWebhookSigner(options: { secret: string | readonly string[] }): WebhookSigner {
  const { keys, ready } = importKeys(options.secret);
  return {
    async sign(input) {
      const prefix = signedPrefix(input.id, input.timestamp);
      const macs = (keys() ?? (await ready)).map((hmac) => hmac(prefix, input.body));
      const signatures = macs.every((mac) => typeof mac === 'string') ? (macs as string[]) : await Promise.all(macs);
      return signatures.map((signature) => `v1,${signature}`).join(' ');
    },
  };
}

/** Options of {@link createWebhookVerifier}. */
export interface WebhookVerifierOptions {
  /** One or several `whsec_` secrets; a signature made with any of them is accepted. */
  secret: string | readonly string[];
  /** Largest accepted distance between `webhook-timestamp` and now, either way. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  clock?: Clock;
}

/** What a verified request says about itself. */
export interface VerifiedWebhook {
  id: string;
  /** `webhook-timestamp`, Unix seconds. */
  timestamp: number;
}

/** Verifies Standard Webhooks requests; see {@link createWebhookVerifier}. */
export interface WebhookVerifier {
  /**
   * Resolves with the request's id and timestamp when `webhook-signature`
   * holds a `v1` signature, made with one of the secrets, of exactly `body`;
   * rejects with a {@link WebhookVerificationError} otherwise.
   */
  verify(headers: Headers, body: Uint8Array | string): Promise<VerifiedWebhook>;
}

/**
 * Creates a verifier: checks the three `webhook-*` headers, the timestamp
 * tolerance, then the HMAC of `id.timestamp.body` over the raw body bytes,
 * compared in constant time against every `v1` signature of the header, for
 * every secret.
 *
 * @example
 * const verifier = createWebhookVerifier({ secret: [newSecret, oldSecret] });
 * const { id } = await verifier.verify(request.headers, new Uint8Array(await request.arrayBuffer()));
 */
export function createWebhookVerifier(options: WebhookVerifierOptions): WebhookVerifier {
  const { keys, ready } = importKeys(options.secret);
  const tolerance = options.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new MessageboxError('invalid_options', 'toleranceSeconds must be a number >= 0');
  }
  const clock = options.clock ?? systemClock;
  return {
    async verify(headers, body) {
      const id = headers.get('webhook-id');
      const timestampHeader = headers.get('webhook-timestamp');
      const signatureHeader = headers.get('webhook-signature');
      if (!id || !timestampHeader || !signatureHeader) {
        throw new WebhookVerificationError(
          'missing_signature',
          'the request must carry the webhook-id, webhook-timestamp and webhook-signature headers',
        );
      }
      if (!/^\d{1,15}$/.test(timestampHeader)) {
        throw new WebhookVerificationError('timestamp_out_of_range', 'webhook-timestamp must be Unix seconds');
      }
      const timestamp = Number(timestampHeader);
      const nowSeconds = Math.floor(clock.now() / 1000);
      if (Math.abs(nowSeconds - timestamp) > tolerance) {
        throw new WebhookVerificationError(
          'timestamp_out_of_range',
          `webhook-timestamp is more than ${tolerance} seconds away from the receiver's clock`,
        );
      }
      // "v1,<sig> v1,<sig>"; several header lines arrive joined as "v1,<sig>, v1,<sig>",
      // so each part is read as the reference implementation does: version, then signature.
      const candidates: string[] = [];
      for (const part of signatureHeader.split(' ')) {
        const [version, signature] = part.split(',');
        if (version === 'v1' && signature) candidates.push(signature);
      }
      if (candidates.length > 0) {
        const prefix = signedPrefix(id, timestamp);
        for (const hmac of keys() ?? (await ready)) {
          const mac = hmac(prefix, body);
          const expected = typeof mac === 'string' ? mac : await mac;
          let match = false;
          for (const candidate of candidates) match = constantTimeEqual(expected, candidate) || match;
          if (match) return { id, timestamp };
        }
      }
      throw new WebhookVerificationError('invalid_signature', 'no webhook-signature matches the request body');
    },
  };
}

/**
 * One HMAC function per secret: `ready` resolves with them, and `keys()`
 * gives them at once once it has (undefined before), so a request after the
 * first awaits nothing for its keys.
 */
function importKeys(secret: string | readonly string[]): { keys: () => HmacSha256[] | undefined; ready: Promise<HmacSha256[]> } {
  const secrets = typeof secret === 'string' ? [secret] : [...secret];
  if (secrets.length === 0) throw new MessageboxError('invalid_options', 'at least one webhook secret is required');
  const ready = createHmacSha256(secrets.map(parseWebhookSecret));
  let imported: HmacSha256[] | undefined;
  ready.then(
    (hmacs) => (imported = hmacs),
    () => {}, // awaited (and so reported) by the first sign or verify
  );
  return { keys: () => imported, ready };
}

/** What is signed before the body: `id.timestamp.` (the body's exact bytes follow). */
function signedPrefix(id: string, timestamp: number): string {
  return `${id}.${timestamp}.`;
}

/** Compares two strings in time that depends only on their lengths. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function base64Decode(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
