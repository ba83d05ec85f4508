import { describe, expect, it } from 'vitest';
import {
  createWebhookSigner,
  createWebhookVerifier,
  generateWebhookSecret,
  MessageboxError,
  parseWebhookSecret,
  WebhookVerificationError,
} from '../../src/index.js';

// Test vector published with the Standard Webhooks / Svix reference libraries.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const headersOf = (id: string, timestamp: number, signature: string) =>
  new Headers({ 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature });

const at = (seconds: number) => ({ now: () => seconds * 1000 });

async function rejection(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return error as WebhookVerificationError;
}

describe('signing', () => {
  it('matches the published Standard Webhooks test vector', async () => {
    const signature = await createWebhookSigner({ secret: VECTOR.secret }).sign(VECTOR);
    expect(signature).toBe(VECTOR.signature);
  });

  it('signs the exact bytes: a string body and its UTF-8 bytes give the same signature', async () => {
    const signer = createWebhookSigner({ secret: VECTOR.secret });
    const body = '{"name":"Zoë ✓"}';
    expect(await signer.sign({ id: 'a', timestamp: 1, body })).toBe(await signer.sign({ id: 'a', timestamp: 1, body: new TextEncoder().encode(body) }));
    expect(await signer.sign({ id: 'a', timestamp: 1, body })).not.toBe(await signer.sign({ id: 'a', timestamp: 1, body: `${body} ` }));
  });

  it('puts one space-separated v1 signature per secret', async () => {
    const secrets = [generateWebhookSecret(), generateWebhookSecret()];
    const signature = await createWebhookSigner({ secret: secrets }).sign({ id: 'a', timestamp: 1, body: '{}' });
    expect(signature.split(' ')).toHaveLength(2);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
  });
});

describe('verifying', () => {
  const verifier = createWebhookVerifier({ secret: VECTOR.secret, clock: at(VECTOR.timestamp) });

  it('accepts the test vector and returns id and timestamp', async () => {
    await expect(verifier.verify(headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature), VECTOR.body)).resolves.toEqual({
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
    });
  });

  it('accepts raw bytes and a header with several signatures, any of which matches', async () => {
    const header = `v1a,AAAA v1,${'A'.repeat(43)}= ${VECTOR.signature} v2,xyz`;
    await expect(verifier.verify(headersOf(VECTOR.id, VECTOR.timestamp, header), new TextEncoder().encode(VECTOR.body))).resolves.toBeTruthy();
  });

  it('accepts any of several secrets (rotation)', async () => {
    const rotated = createWebhookVerifier({ secret: [generateWebhookSecret(), VECTOR.secret], clock: at(VECTOR.timestamp) });
    await expect(rotated.verify(headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature), VECTOR.body)).resolves.toBeTruthy();
    const other = createWebhookVerifier({ secret: [generateWebhookSecret()], clock: at(VECTOR.timestamp) });
    expect((await rejection(other.verify(headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature), VECTOR.body))).code).toBe('invalid_signature');
  });

  it.each([
    ['a changed body', VECTOR.id, VECTOR.timestamp, VECTOR.signature, '{"test": 2432232315}'],
    ['a re-serialised body', VECTOR.id, VECTOR.timestamp, VECTOR.signature, '{"test":2432232314}'],
    ['another id', 'msg_other', VECTOR.timestamp, VECTOR.signature, VECTOR.body],
    ['another timestamp', VECTOR.id, VECTOR.timestamp + 1, VECTOR.signature, VECTOR.body],
    ['a truncated signature', VECTOR.id, VECTOR.timestamp, VECTOR.signature.slice(0, -2), VECTOR.body],
    ['an unversioned signature', VECTOR.id, VECTOR.timestamp, VECTOR.signature.slice(3), VECTOR.body],
    ['an empty v1 signature', VECTOR.id, VECTOR.timestamp, 'v1,', VECTOR.body],
  ])('rejects %s as invalid_signature', async (_what, id, timestamp, signature, body) => {
    expect((await rejection(verifier.verify(headersOf(id, timestamp, signature), body))).code).toBe('invalid_signature');
  });

  it('rejects timestamps beyond the tolerance in either direction, accepts at the edge', async () => {
    const signer = createWebhookSigner({ secret: VECTOR.secret });
    const now = 2_000_000_000;
    const check = async (timestamp: number, tolerance?: number) => {
      const v = createWebhookVerifier({ secret: VECTOR.secret, clock: at(now), toleranceSeconds: tolerance });
      return v.verify(headersOf('m', timestamp, await signer.sign({ id: 'm', timestamp, body: '{}' })), '{}');
    };
    await expect(check(now - 300)).resolves.toBeTruthy();
    await expect(check(now + 300)).resolves.toBeTruthy();
    expect((await rejection(check(now - 301))).code).toBe('timestamp_out_of_range');
    expect((await rejection(check(now + 301))).code).toBe('timestamp_out_of_range');
    expect((await rejection(check(now - 11, 10))).code).toBe('timestamp_out_of_range');
    await expect(check(now - 10, 10)).resolves.toBeTruthy();
  });

  it.each(['', 'abc', '1.5', '-1', '1e9', '1614265330 1'])('rejects the timestamp header %j', async (value) => {
    const headers = new Headers({ 'webhook-id': VECTOR.id, 'webhook-timestamp': value, 'webhook-signature': VECTOR.signature });
    const error = await rejection(verifier.verify(headers, VECTOR.body));
    expect(['timestamp_out_of_range', 'missing_signature']).toContain(error.code);
    expect(error.status).toBe(401);
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('rejects a request without %s as missing_signature', async (name) => {
    const headers = headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature);
    headers.delete(name);
    expect((await rejection(verifier.verify(headers, VECTOR.body))).code).toBe('missing_signature');
  });

  it('renders a verification failure as a 401 JSON response', async () => {
    const error = await rejection(verifier.verify(new Headers(), VECTOR.body));
    const response = error.getResponse();
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'missing_signature', message: expect.not.stringContaining('[messagebox]') } });
  });
});

describe('secrets', () => {
  it('decodes whsec_ secrets', () => {
    expect(parseWebhookSecret(VECTOR.secret)).toHaveLength(24);
    expect(parseWebhookSecret(generateWebhookSecret())).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(generateWebhookSecret());
  });

  it.each([
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', /whsec_/],
    ['not base64', 'whsec_not base64!!', /base64/],
    ['too short', 'whsec_c2hvcnQ=', /at least 16 bytes/],
    ['empty', 'whsec_', /at least 16 bytes/],
  ])('refuses a secret with %s', (_what, secret, message) => {
    expect(() => parseWebhookSecret(secret)).toThrow(message);
    expect(() => createWebhookSigner({ secret })).toThrow(MessageboxError);
    expect(() => createWebhookVerifier({ secret })).toThrow(MessageboxError);
  });

  it('refuses no secrets and a negative tolerance', () => {
    expect(() => createWebhookVerifier({ secret: [] })).toThrow(/at least one/);
    expect(() => createWebhookVerifier({ secret: VECTOR.secret, toleranceSeconds: -1 })).toThrow(/toleranceSeconds/);
  });
});
