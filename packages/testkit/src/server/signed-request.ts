import { Webhook } from 'standardwebhooks';

/** Headers and body of a request signed with the independent `standardwebhooks` library (not messagebox's code). */
export interface SignedRequest {
  headers: Record<string, string>;
  body: string;
}

/**
 * Signs `body` as a Standard Webhooks sender does, with the reference
 * implementation, so a test checks messagebox's verifier against an
 * implementation it does not share code with.
 *
 * @example
 * const { headers, body } = signWithReference({ secret, id: 'msg_1', body: JSON.stringify(payload) });
 * await fetch(url, { method: 'POST', headers, body });
 */
export function signWithReference(options: {
  secret: string;
  id: string;
  body: string;
  /** Default: now. */
  timestamp?: Date;
  contentType?: string;
}): SignedRequest {
  const timestamp = options.timestamp ?? new Date();
  const signature = new Webhook(options.secret).sign(options.id, timestamp, options.body);
  return {
    headers: {
      'content-type': options.contentType ?? 'application/json',
      'webhook-id': options.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body: options.body,
  };
}
