import { describe, expect, it } from 'vitest';
import {
  createInboxRequestHandler,
  createMessage,
  createWebhookSigner,
  decodeWebhookBody,
  encodeWebhookBody,
  encodeWebhookRequest,
  generateWebhookSecret,
  MessageboxError,
  silentLogger,
  type InboxReceiver,
  type Logger,
  type Message,
} from '../../src/index.js';

const secret = generateWebhookSecret();
const signer = createWebhookSigner({ secret });
const message = createMessage(
  { type: 'order.created', source: 'shop', payload: { total: 12.5, lines: [{ sku: 'a' }] }, headers: { traceparent: 'tp', Tenant: 'x' } },
  { now: new Date('2030-01-01T00:00:00.123Z') },
);

function receiver(overrides: Partial<InboxReceiver> = {}) {
  const stored: Message[] = [];
  const inbox: InboxReceiver & { stored: Message[] } = {
    stored,
    accepts: (type) => type === 'order.created',
    async receive(m) {
      if (stored.some((s) => s.id === m.id)) return { status: 'duplicate' };
      stored.push(m);
      return { status: 'created' };
    },
    ...overrides,
  };
  return inbox;
}

async function signedRequest(m: Message = message, init: { body?: BodyInit; headers?: Record<string, string> } = {}) {
  const { headers, body } = await encodeWebhookRequest(m, { signer, now: Date.now() });
  return new Request('http://localhost/inbox', { method: 'POST', headers: { ...headers, ...init.headers }, body: init.body ?? body, duplex: 'half' } as RequestInit);
}

describe('wire format', () => {
  it('round-trips a message through the body and webhook-id', () => {
    const decoded = decodeWebhookBody(JSON.parse(encodeWebhookBody(message)), message.id);
    expect(decoded).toEqual(message);
  });

  it('writes the Standard Webhooks fields plus source and headers; omits empty headers', () => {
    expect(JSON.parse(encodeWebhookBody(message))).toEqual({
      type: 'order.created',
      timestamp: '2030-01-01T00:00:00.123Z',
      data: { total: 12.5, lines: [{ sku: 'a' }] },
      source: 'shop',
      headers: { traceparent: 'tp', tenant: 'x' },
    });
    const bare = createMessage({ type: 't', source: 's', payload: null }, { now: new Date(0) });
    expect(JSON.parse(encodeWebhookBody(bare))).toEqual({ type: 't', timestamp: '1970-01-01T00:00:00.000Z', data: null, source: 's' });
  });

  it('builds request headers: id, timestamp of the attempt, signature, traceparent', async () => {
    const now = Date.parse('2031-05-05T05:05:05.999Z');
    const request = await encodeWebhookRequest(message, { signer, now });
    expect(request.headers).toEqual({
      'content-type': 'application/json',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(now / 1000)),
      'webhook-signature': await signer.sign({ id: message.id, timestamp: Math.floor(now / 1000), body: request.body }),
      traceparent: 'tp',
    });
    const unsigned = await encodeWebhookRequest(createMessage({ type: 't', source: 's', payload: 1 }, { now: new Date() }), { now });
    expect(Object.keys(unsigned.headers).sort()).toEqual(['content-type', 'webhook-id', 'webhook-timestamp']);
  });

  it('gives a body without source the default source', () => {
    const body = { type: 'invoice.paid', timestamp: '2022-11-03T20:26:10.344522Z', data: { id: 1 } };
    expect(decodeWebhookBody(body, 'msg_1').source).toBe('webhook');
    expect(decodeWebhookBody(body, 'msg_1', { defaultSource: 'billing' }).source).toBe('billing');
    expect(decodeWebhookBody(body, 'msg_1').createdAt.toISOString()).toBe('2022-11-03T20:26:10.344Z');
  });

  it.each([
    [[], /JSON object/],
    [{ timestamp: '2030-01-01T00:00:00Z', data: 1 }, /"type"/],
    [{ type: 't', data: 1 }, /"timestamp"/],
    [{ type: 't', timestamp: '2030-01-01', data: 1 }, /"timestamp"/],
    [{ type: 't', timestamp: '2030-01-01T00:00:00Z' }, /"data"/],
    [{ type: 't', timestamp: '2030-01-01T00:00:00Z', data: 1, source: 5 }, /"source"/],
    [{ type: 't', timestamp: '2030-01-01T00:00:00Z', data: 1, headers: { a: 1 } }, /headers\.a/],
  ])('refuses %j', (body, reason) => {
    expect(() => decodeWebhookBody(body, 'msg_1')).toThrow(reason);
  });

  it('refuses data nested deeper than 64 levels (it could not be stored safely)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 64; i++) deep = [deep];
    expect(() => decodeWebhookBody({ type: 't', timestamp: '2030-01-01T00:00:00Z', data: deep }, 'm')).not.toThrow();
    expect(() => decodeWebhookBody({ type: 't', timestamp: '2030-01-01T00:00:00Z', data: [deep] }, 'm')).toThrow(MessageboxError);
  });
});

describe('createInboxRequestHandler', () => {
  it('stores a signed message and reports a duplicate', async () => {
    const inbox = receiver();
    const handle = createInboxRequestHandler(inbox, { secret, logger: silentLogger });
    const first = await handle(await signedRequest());
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'created', id: message.id });
    expect(inbox.stored).toEqual([message]);
    expect(await (await handle(await signedRequest())).json()).toEqual({ status: 'duplicate', id: message.id });
    expect(inbox.stored).toHaveLength(1);
  });

  it('stops reading an endless body as soon as it passes the limit, and cancels it', async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024).fill(32));
      },
      cancel() {
        cancelled = true;
      },
    });
    const inbox = receiver();
    const handle = createInboxRequestHandler(inbox, { secret, maxBodyBytes: 10 * 1024, logger: silentLogger });
    const response = await handle(await signedRequest(message, { body: endless }));
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe('payload_too_large');
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(20);
    expect(inbox.stored).toHaveLength(0);
  });

  it('answers 413 from a declared content-length without reading the body', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({ pull: () => void pulled++ }, { highWaterMark: 0 });
    const request = await signedRequest(message, { body, headers: { 'content-length': '2000000' } });
    const response = await createInboxRequestHandler(receiver(), { secret, logger: silentLogger })(request);
    expect(response.status).toBe(413);
    expect(pulled).toBe(0);
  });

  it('answers 500 body_already_read when something consumed the body first', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (_f, m) => void errors.push(m) };
    const request = await signedRequest();
    await request.json();
    const response = await createInboxRequestHandler(receiver(), { secret, logger })(request);
    expect(response.status).toBe(500);
    const json = await response.json();
    expect(json.error.code).toBe('body_already_read');
    expect(json.error.message).toMatch(/before any body parser/);
    expect(errors).toHaveLength(1);
  });

  it.each([
    ['a store failure', new Error('connection reset'), 503, 'store_unavailable'],
    ['a thrown non-error', 'boom', 503, 'store_unavailable'],
    ['an inline handler failure', new MessageboxError('handler_failed', 'handler threw'), 500, 'handler_failed'],
    ['a late unknown type', new MessageboxError('unknown_type', 'no handler'), 422, 'unknown_type'],
    ['an invalid payload', new MessageboxError('invalid_payload', 'bad'), 422, 'invalid_message'],
  ])('maps %s from receive() to %i %s', async (_what, error, status, code) => {
    const handle = createInboxRequestHandler(receiver({ receive: () => Promise.reject(error) }), { secret, logger: silentLogger });
    const response = await handle(await signedRequest());
    expect(response.status).toBe(status);
    expect((await response.json()).error.code).toBe(code);
  });

  it('never rejects, even when the inbox itself throws synchronously', async () => {
    const handle = createInboxRequestHandler(
      receiver({
        accepts: () => {
          throw new Error('bug');
        },
      }),
      { secret, logger: silentLogger },
    );
    const response = await handle(await signedRequest());
    expect(response.status).toBe(500);
    expect((await response.json()).error.code).toBe('internal_error');
  });

  it('with allowUnsigned, warns once at creation and not per request', async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_f, m) => void warnings.push(m) };
    const handle = createInboxRequestHandler(receiver(), { allowUnsigned: true, logger });
    for (let i = 0; i < 3; i++) {
      const m = createMessage({ type: 'order.created', source: 's', payload: i }, { now: new Date() });
      const { headers, body } = await encodeWebhookRequest(m, { now: Date.now() });
      expect((await handle(new Request('http://x/', { method: 'POST', headers, body }))).status).toBe(200);
    }
    expect(warnings).toHaveLength(1);
  });

  it('refuses nonsense options', () => {
    const inbox = receiver();
    expect(() => createInboxRequestHandler(inbox, {})).toThrow(/allowUnsigned: true/);
    expect(() => createInboxRequestHandler(inbox, { secret, allowUnsigned: true })).toThrow(/not both/);
    expect(() => createInboxRequestHandler(inbox, { secret, maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
    expect(() => createInboxRequestHandler({} as InboxReceiver, { secret })).toThrow(/createInbox/);
  });
});
