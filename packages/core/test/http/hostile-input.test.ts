import { describe, expect, it } from 'vitest';
import {
  createInboxRequestHandler,
  createWebhookSigner,
  decodeWebhookBody,
  generateWebhookSecret,
  silentLogger,
  type Logger,
} from '../../src/index.js';
import { storingReceiver } from '../support.js';

const secret = generateWebhookSecret();
const signer = createWebhookSigner({ secret });

const receiver = storingReceiver;

async function signed(body: string | ReadableStream<Uint8Array>, init: { id?: string; timestamp?: number; text?: string } = {}) {
  const id = init.id ?? 'msg_1';
  const timestamp = init.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = await signer.sign({ id, timestamp, body: typeof body === 'string' ? body : (init.text ?? '') });
  const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
  return new Request('http://localhost/inbox', { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
}

describe('timestamp of a message', () => {
  it('takes webhook-timestamp when the body has no timestamp (a Standard Webhooks sender may omit it)', async () => {
    const inbox = receiver();
    const handle = createInboxRequestHandler(inbox, { secret, logger: silentLogger });
    const timestamp = Math.floor(Date.now() / 1000) - 7;
    const response = await handle(await signed(JSON.stringify({ type: 'order.created', data: { n: 1 } }), { timestamp }));
    expect(response.status).toBe(200);
    expect(inbox.stored[0]!.createdAt.getTime()).toBe(timestamp * 1000);

    const unsigned = receiver();
    const open = createInboxRequestHandler(unsigned, { allowUnsigned: true, logger: silentLogger });
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_2', 'webhook-timestamp': String(timestamp) };
    const body = JSON.stringify({ type: 'order.created', data: 1 });
    expect((await open(new Request('http://x/', { method: 'POST', headers, body }))).status).toBe(200);
    expect(unsigned.stored[0]!.createdAt.getTime()).toBe(timestamp * 1000);
    const noHeader = await open(new Request('http://x/', { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'msg_3' }, body }));
    expect(noHeader.status).toBe(422);
    expect((await noHeader.json()).error.message).toMatch(/"timestamp" is required/);
  });

  it.each([
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:60Z',
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00-05:60',
  ])('refuses the impossible date-time %s instead of shifting it', (timestamp) => {
    expect(() => decodeWebhookBody({ type: 't', timestamp, data: 1 }, 'm', { fallbackTimestamp: 1_800_000_000 })).toThrow(
      /"timestamp" is not a real date-time/,
    );
  });

  it.each([
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['2030-01-01T01:30:00+01:30', '2030-01-01T00:00:00.000Z'],
    ['2029-12-31T23:00:00-01:00', '2030-01-01T00:00:00.000Z'],
    ['2030-06-30t23:59:59.987654321z', '2030-06-30T23:59:59.987Z'],
    ['2030-06-30T23:59:59.5Z', '2030-06-30T23:59:59.500Z'],
    ['0099-01-01T00:00:00Z', '0099-01-01T00:00:00.000Z'],
  ])('reads the real date-time %s as %s', (timestamp, iso) => {
    expect(decodeWebhookBody({ type: 't', timestamp, data: 1 }, 'm').createdAt.toISOString()).toBe(iso);
  });

  it('answers 422 with a clear message over the handler', async () => {
    const inbox = receiver();
    const handle = createInboxRequestHandler(inbox, { secret, logger: silentLogger });
    const response = await handle(await signed(JSON.stringify({ type: 'order.created', timestamp: '2026-02-30T00:00:00Z', data: 1 })));
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({ error: { code: 'invalid_message', message: '"timestamp" is not a real date-time: "2026-02-30T00:00:00Z"' } });
    expect(inbox.stored).toHaveLength(0);
  });
});

describe('what a refusal repeats', () => {
  it('keeps a 422 about a huge invalid value short and free of control characters', async () => {
    const handle = createInboxRequestHandler(receiver(), { secret, logger: silentLogger });
    const huge = `bad id \x1b]0;owned\x07${'x'.repeat(16_000)}`;
    const cases = [
      await signed(JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: 1 }), { id: huge }),
      await signed(JSON.stringify({ type: `no such type ${'y'.repeat(16_000)}`, timestamp: new Date().toISOString(), data: 1 })),
      await signed(JSON.stringify({ type: 'order.created', timestamp: `2030-01-01T00:00:00Z${'z'.repeat(16_000)}`, data: 1 })),
      await signed(JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: 1, headers: { ['h'.repeat(16_000)]: 1 } })),
      await signed(JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: 1, headers: { tenant: `\x1b[2J${'v'.repeat(16_000)}` } })),
    ];
    for (const request of cases) {
      const response = await handle(request);
      const text = await response.text();
      expect(response.status).toBe(422);
      expect(text.length).toBeLessThan(600);
      expect(JSON.parse(text).error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });
});

describe('body-read deadline', () => {
  it('answers 408 body_timeout for a body that never completes, cancels it and stores nothing', async () => {
    let cancelled = false;
    const trickle = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"type":'));
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const inbox = receiver();
    const handle = createInboxRequestHandler(inbox, { secret, bodyTimeoutMs: 50, logger: silentLogger });
    const response = await handle(await signed(trickle));
    expect(response.status).toBe(408);
    expect(await response.json()).toEqual({ error: { code: 'body_timeout', message: 'the request body did not arrive whole within 50 ms' } });
    expect(cancelled).toBe(true);
    expect(inbox.stored).toHaveLength(0);
  });

  it('refuses a bodyTimeoutMs that is not a positive number', () => {
    for (const bodyTimeoutMs of [0, -1, Number.NaN]) {
      expect(() => createInboxRequestHandler(receiver(), { secret, bodyTimeoutMs })).toThrow(/bodyTimeoutMs/);
    }
  });
});

describe('logging a failed store', () => {
  it('logs the cause as text a JSON logger keeps (not an Error that serialises to {})', async () => {
    const lines: string[] = [];
    const jsonLogger: Logger = {
      ...silentLogger,
      error: (fields, message) => void lines.push(JSON.stringify({ level: 'error', message, ...fields })),
      warn: (fields, message) => void lines.push(JSON.stringify({ level: 'warn', message, ...fields })),
    };
    const failing = receiver({ receive: () => Promise.reject(new Error('connection to the database was lost', { cause: new Error('ECONNRESET') })) });
    const response = await createInboxRequestHandler(failing, { secret, logger: jsonLogger })(
      await signed(JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: 1 })),
    );
    expect(response.status).toBe(503);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line.error).toBe('connection to the database was lost (cause: ECONNRESET)');
  });
});
