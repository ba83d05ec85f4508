import { createMessage, generateWebhookSecret, TransportError, type Message } from '@messagebox/core';
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFetchTransport, createHttpTransport, httpClientKind, parseRetryAfter } from '../src/index.js';
import { startRecordingServer, unusedPort, type RecordingServer } from '@messagebox/testkit';

const message = (overrides: Partial<{ id: string; headers: Record<string, string> }> = {}): Message =>
  createMessage(
    { type: 'payment.created', source: 'vault', payload: { amount: 100, note: 'é' }, ...overrides },
    { now: new Date('2030-01-02T03:04:05.678Z') },
  );

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

let server: RecordingServer;
/** The engine under test: undici (what `createHttpTransport` picks on Node) or ofetch over `fetch`. */
let create: typeof createHttpTransport = createHttpTransport;
const transports: Array<{ close?: () => Promise<void> }> = [];
const transport = (options: Omit<Parameters<typeof createHttpTransport>[0], 'url'> & { url?: string } = {}) => {
  const t = create({ url: server.url, ...options });
  transports.push(t);
  return t;
};

beforeEach(async () => {
  server = await startRecordingServer();
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close?.()));
  await server.close();
});

it('createHttpTransport picks undici on Node', () => {
  expect(httpClientKind()).toBe('undici');
});

describe.each([
  ['undici', createHttpTransport],
  ['fetch', createFetchTransport],
] as const)('%s engine', (engine, factory) => {
  /** undici owns its sockets; with fetch the runtime does, and the transport bounds requests in flight. */
  const ownsSockets = engine === 'undici';
  beforeEach(() => {
    create = factory;
  });

  describe('wire format and signing', () => {
    it('adds the extra headers, which cannot replace webhook-* or content-type', async () => {
      const secret = generateWebhookSecret();
      const m = message();
      await transport({ secret, headers: { Authorization: 'Bearer x', 'webhook-id': 'spoofed', 'content-type': 'text/plain' } }).send(m, { attempt: 1 });
      const req = server.requests[0]!;
      expect(req.headers['authorization']).toBe('Bearer x');
      expect(req.headers['webhook-id']).toBe(m.id);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['traceparent']).toBeUndefined();
    });

    it('sends no signature header without a secret', async () => {
      await transport().send(message(), { attempt: 1 });
      expect(server.requests[0]!.headers['webhook-signature']).toBeUndefined();
      expect(server.requests[0]!.headers['webhook-id']).toBeDefined();
    });

    it('rejects bad options at creation', () => {
      expect(() => createHttpTransport({ url: 'ftp://x/inbox' })).toThrow(/http or https/);
      expect(() => createHttpTransport({ url: 'not a url' })).toThrow(/absolute/);
      expect(() => createHttpTransport({ url: 'http://x/', secret: 'nope' })).toThrow(/whsec_/);
      expect(() => createHttpTransport({ url: 'http://x/', timeoutMs: 0 })).toThrow(/timeoutMs/);
      expect(() => createHttpTransport({ url: 'http://x/', maxConnections: 1.5 })).toThrow(/maxConnections/);
    });
  });

  describe('response semantics', () => {
    it.each([200, 201, 202, 204])('%i: delivered', async (status) => {
      server.respond((_req, res) => res.writeHead(status).end());
      await expect(transport().send(message(), { attempt: 1 })).resolves.toBeUndefined();
    });

    it.each([408, 429, 500, 502, 503, 504])('%i: retryable failure', async (status) => {
      server.respond((_req, res) => res.writeHead(status).end('try later'));
      const error = await failure(transport().send(message(), { attempt: 1 }));
      expect(error.retryable).toBe(true);
      expect(error.status).toBe(status);
      expect(error.retryAfterMs).toBeUndefined();
      expect(error.message).toContain(String(status));
      expect(error.message).toContain('try later');
    });

    it('429 with Retry-After in seconds gives retryAfterMs', async () => {
      server.respond((_req, res) => res.writeHead(429, { 'retry-after': '120' }).end());
      const error = await failure(transport().send(message(), { attempt: 1 }));
      expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 120_000 });
    });

    it('503 with Retry-After as an HTTP date gives retryAfterMs from the clock', async () => {
      const now = Date.parse('2030-06-01T12:00:00Z');
      server.respond((_req, res) => res.writeHead(503, { 'retry-after': new Date(now + 90_000).toUTCString() }).end());
      const error = await failure(transport({ clock: { now: () => now } }).send(message(), { attempt: 1 }));
      expect(error).toMatchObject({ retryable: true, status: 503, retryAfterMs: 90_000 });
    });

    it.each([400, 401, 403, 404, 409, 410, 413, 415, 422])('%i: permanent failure', async (status) => {
      server.respond((_req, res) => res.writeHead(status, { 'retry-after': '5' }).end('{"error":{"code":"x"}}'));
      const error = await failure(transport().send(message(), { attempt: 1 }));
      expect(error).toMatchObject({ retryable: false, status });
    });

    it('permanentStatuses makes other 4xx retryable (list or predicate), never 5xx permanent', async () => {
      server.respond((req, res) => res.writeHead(Number(new URL(req.url, 'http://x').searchParams.get('s'))).end());
      const byList = transport({ url: `${server.url}?s=404`, permanentStatuses: [400] });
      expect((await failure(byList.send(message(), { attempt: 1 }))).retryable).toBe(true);
      const badRequest = transport({ url: `${server.url}?s=400`, permanentStatuses: [400] });
      expect((await failure(badRequest.send(message(), { attempt: 1 }))).retryable).toBe(false);
      const byPredicate = transport({ url: `${server.url}?s=401`, permanentStatuses: (s) => s !== 401 });
      expect((await failure(byPredicate.send(message(), { attempt: 1 }))).retryable).toBe(true);
      const fiveHundred = transport({ url: `${server.url}?s=500`, permanentStatuses: () => true });
      expect((await failure(fiveHundred.send(message(), { attempt: 1 }))).retryable).toBe(true);
    });

    it.each([301, 302, 303, 307, 308])('%i: the redirect is not followed and counts as a retryable failure', async (status) => {
      server.respond((req, res) => {
        if (req.url === '/elsewhere') res.writeHead(200).end();
        else res.writeHead(status, { location: '/elsewhere' }).end();
      });
      const error = await failure(transport().send(message(), { attempt: 1 }));
      expect(error).toMatchObject({ retryable: true, status });
      expect(error.message).toContain('redirect');
      expect(server.requests.map((r) => r.url)).toEqual(['/inbox']);
    });

    it('a receiver that does not answer in time: retryable timeout', async () => {
      server.respond(() => {});
      const error = await failure(transport({ timeoutMs: 300 }).send(message(), { attempt: 1 }));
      expect(error.retryable).toBe(true);
      expect(error.status).toBeUndefined();
      expect(error.message).toMatch(/no answer within 300 ms/);
    });

    it('connection refused: retryable', async () => {
      const port = await unusedPort();
      const error = await failure(transport({ url: `http://127.0.0.1:${port}/inbox` }).send(message(), { attempt: 1 }));
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/connection refused/);
    });

    it('a send aborted by the caller (shutdown) is a retryable failure', async () => {
      server.respond(() => {});
      const controller = new AbortController();
      const sending = transport().send(message(), { attempt: 1, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const error = await failure(sending);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/aborted/);
    });

    it('sends sharing one signal (the worker\'s) put one abort listener on it, not one each; its abort ends every one, and a later signal still works', async () => {
      server.respond(() => {});
      const t = transport();
      const controller = new AbortController();
      const sending = [1, 2, 3].map((i) => failure(t.send(message({ id: `m${i}` }), { attempt: 1, signal: controller.signal })));
      for (let i = 0; i < 500 && server.requests.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(server.requests.length).toBe(3);
      expect(getEventListeners(controller.signal, 'abort').length).toBe(1);
      controller.abort();
      for (const error of await Promise.all(sending)) {
        expect(error.retryable).toBe(true);
        expect(error.message).toMatch(/aborted/);
      }
      server.respond((_req, res) => res.writeHead(200).end());
      await t.send(message({ id: 'm4' }), { attempt: 1, signal: new AbortController().signal });
    });

    it('after close() a send fails as retryable and opens no connection', async () => {
      const t = transport();
      await t.send(message(), { attempt: 1 });
      await t.close!();
      const before = server.connections;
      expect((await failure(t.send(message(), { attempt: 1 }))).retryable).toBe(true);
      expect(server.connections).toBe(before);
    });
  });

  describe('connections', () => {
    it('keeps connections alive: 25 sequential sends reuse one or two sockets', async () => {
      const t = transport();
      for (let i = 0; i < 25; i++) await t.send(message(), { attempt: 1 });
      expect(server.requests).toHaveLength(25);
      expect(server.connections).toBeLessThanOrEqual(2);
    });

    it('with maxConnections: 1, 25 sends (sequential, then concurrent) run one at a time (undici: on one socket)', async () => {
      const t = transport({ maxConnections: 1 });
      for (let i = 0; i < 5; i++) await t.send(message(), { attempt: 1 });
      await Promise.all(Array.from({ length: 20 }, () => t.send(message(), { attempt: 1 })));
      expect(server.requests).toHaveLength(25);
      if (ownsSockets) expect(server.connections).toBe(1);
      expect(server.maxInFlight).toBe(1);
    });

    it('never runs more than maxConnections requests at once (undici: opens no more sockets), however many sends there are', async () => {
      server.respond(async (_req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        res.writeHead(200).end();
      });
      const t = transport({ maxConnections: 3 });
      await Promise.all(Array.from({ length: 30 }, () => t.send(message(), { attempt: 1 })));
      expect(server.requests).toHaveLength(30);
      if (ownsSockets) expect(server.connections).toBeLessThanOrEqual(3);
      expect(server.maxInFlight).toBeLessThanOrEqual(3);
      expect(server.maxInFlight).toBeGreaterThan(1);
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  it.each([
    ['0', 0],
    ['7', 7_000],
    [' 30 ', 30_000],
    ['Tue, 01 Jan 2030 00:01:00 GMT', 60_000],
    ['Mon, 31 Dec 2029 23:00:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['2030-01-01T00:01:00Z', undefined],
    [null, undefined],
  ])('%s → %s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
