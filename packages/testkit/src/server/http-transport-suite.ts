import { createMessage, generateWebhookSecret, TransportError, type Clock, type Message, type Transport } from '@messagebox/core';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRecordingServer, unusedPort, type RecordingServer } from './recording-server.js';

/** What {@link runHttpTransportSuite} asks a transport factory for. */
export interface HttpTransportSuiteOptions {
  url: string;
  secret?: string | string[];
  timeoutMs?: number;
  maxConnections?: number;
  clock?: Clock;
}

/**
 * What an HTTP transport gives the suite.
 *
 * @example
 * runHttpTransportSuite({ name: 'transport-http', create: (options) => createHttpTransport(options) });
 */
export interface HttpTransportHarness {
  name: string;
  create(options: HttpTransportSuiteOptions): Transport;
}

/**
 * The conformance suite for transports that speak messagebox's HTTP wire
 * format (Standard Webhooks): signed requests that the independent
 * `standardwebhooks` package verifies, and the response semantics (2xx
 * delivered; 408/429/5xx/3xx/timeouts/refused retryable with `Retry-After`;
 * other 4xx permanent), keep-alive and the socket bound, against a real
 * server on loopback.
 */
export function runHttpTransportSuite(harness: HttpTransportHarness): void {
  describe(`HTTP transport conformance: ${harness.name}`, () => {
    let server: RecordingServer;
    const created: Transport[] = [];
    const transport = (options: Partial<HttpTransportSuiteOptions> = {}) => {
      const t = harness.create({ url: server.url, ...options });
      created.push(t);
      return t;
    };
    beforeEach(async () => {
      server = await startRecordingServer();
    });
    afterEach(async () => {
      await Promise.all(created.splice(0).map((t) => t.close?.()));
      await server.close();
    });

    const message = (headers: Record<string, string> = {}): Message =>
      createMessage({ type: 'payment.created', source: 'vault', payload: { amount: 100, note: 'é' }, headers }, { now: new Date('2030-01-02T03:04:05.678Z') });

    async function failure(promise: Promise<unknown>): Promise<TransportError> {
      const error = await promise.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      return error as TransportError;
    }

    it('POSTs the Standard Webhooks body and headers, signed so that the reference library verifies it', async () => {
      const secret = generateWebhookSecret();
      const m = message({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
      await transport({ secret }).send(m, { attempt: 1 });
      expect(server.requests).toHaveLength(1);
      const req = server.requests[0]!;
      expect(req.method).toBe('POST');
      expect(req.headers['content-type']).toMatch(/^application\/json/);
      expect(req.headers['webhook-id']).toBe(m.id);
      expect(req.headers['traceparent']).toBe(m.headers['traceparent']);
      expect(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(JSON.parse(req.body)).toEqual({
        type: 'payment.created',
        timestamp: '2030-01-02T03:04:05.678Z',
        data: { amount: 100, note: 'é' },
        source: 'vault',
        headers: { traceparent: m.headers['traceparent'] },
      });
      expect(new Webhook(secret).verify(req.body, req.headers as Record<string, string>)).toEqual(JSON.parse(req.body));
      expect(() => new Webhook(generateWebhookSecret()).verify(req.body, req.headers as Record<string, string>)).toThrow();
    });

    it('signs with every secret during a rotation', async () => {
      const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
      await transport({ secret: [newSecret, oldSecret] }).send(message(), { attempt: 1 });
      const req = server.requests[0]!;
      for (const secret of [oldSecret, newSecret]) {
        expect(() => new Webhook(secret).verify(req.body, req.headers as Record<string, string>)).not.toThrow();
      }
    });

    it.each([200, 201, 202, 204])('%i: delivered', async (status) => {
      server.respond((_req, res) => res.writeHead(status).end());
      await expect(transport().send(message(), { attempt: 1 })).resolves.toBeUndefined();
    });

    it.each([408, 429, 500, 502, 503, 504])('%i: retryable', async (status) => {
      server.respond((_req, res) => res.writeHead(status).end());
      expect(await failure(transport().send(message(), { attempt: 1 }))).toMatchObject({ retryable: true, status });
    });

    it('Retry-After in seconds and as an HTTP date become retryAfterMs', async () => {
      const now = Date.parse('2030-06-01T12:00:00Z');
      server.respond((req, res) =>
        res.writeHead(req.url.endsWith('date') ? 503 : 429, { 'retry-after': req.url.endsWith('date') ? new Date(now + 90_000).toUTCString() : '120' }).end(),
      );
      const seconds = await failure(transport({ url: `${server.url}?seconds` }).send(message(), { attempt: 1 }));
      expect(seconds).toMatchObject({ retryable: true, status: 429, retryAfterMs: 120_000 });
      const date = await failure(transport({ url: `${server.url}?date`, clock: { now: () => now } }).send(message(), { attempt: 1 }));
      expect(date).toMatchObject({ retryable: true, status: 503, retryAfterMs: 90_000 });
    });

    it.each([400, 401, 403, 404, 410, 413, 415, 422])('%i: permanent', async (status) => {
      server.respond((_req, res) => res.writeHead(status).end());
      expect(await failure(transport().send(message(), { attempt: 1 }))).toMatchObject({ retryable: false, status });
    });

    it.each([301, 302, 307, 308])('%i: the redirect is not followed and is a retryable failure', async (status) => {
      server.respond((req, res) => (req.url === '/elsewhere' ? res.writeHead(200).end() : res.writeHead(status, { location: '/elsewhere' }).end()));
      expect(await failure(transport().send(message(), { attempt: 1 }))).toMatchObject({ retryable: true, status });
      expect(server.requests.map((r) => r.url)).toEqual(['/inbox']);
    });

    it('no answer within the timeout: retryable', async () => {
      server.respond(() => {});
      const error = await failure(transport({ timeoutMs: 300 }).send(message(), { attempt: 1 }));
      expect(error.retryable).toBe(true);
    });

    it('connection refused: retryable', async () => {
      const error = await failure(transport({ url: `http://127.0.0.1:${await unusedPort()}/inbox` }).send(message(), { attempt: 1 }));
      expect(error.retryable).toBe(true);
    });

    it('reuses kept-alive sockets and never opens more than maxConnections', async () => {
      const sequential = transport();
      for (let i = 0; i < 20; i++) await sequential.send(message(), { attempt: 1 });
      expect(server.connections).toBeLessThanOrEqual(2);
      server.respond(async (_req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        res.writeHead(200).end();
      });
      const before = server.connections;
      const bounded = transport({ maxConnections: 2 });
      await Promise.all(Array.from({ length: 20 }, () => bounded.send(message(), { attempt: 1 })));
      expect(server.requests).toHaveLength(40);
      expect(server.connections - before).toBeLessThanOrEqual(2);
    });
  });
}
