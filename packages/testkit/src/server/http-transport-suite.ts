import { BATCH_CONTENT_TYPE, createMessage, generateWebhookSecret, TransportError, type Clock, type Message, type SendOutcome, type Transport } from '@messagebox/core';
import type { ServerResponse } from 'node:http';
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
  /** Set (to the reason) when the transport has no `sendBatch`: the batch cases are skipped. */
  withoutBatch?: string;
  /**
   * Set (to the reason) when the runtime, not the transport, owns the sockets
   * (a `fetch`-based transport): the bound is then checked on requests in
   * flight (never more than `maxConnections`) instead of on sockets opened.
   */
  socketsOwnedByRuntime?: string;
}

/**
 * The conformance suite for transports that speak messagebox's HTTP wire
 * format (Standard Webhooks): signed requests that the independent
 * `standardwebhooks` package verifies, and the response semantics (2xx
 * delivered; 408/429/5xx/3xx/timeouts/refused retryable with `Retry-After`;
 * other 4xx permanent), keep-alive and the socket bound, against a real
 * server on loopback. With `sendBatch`: one signed request per batch in
 * the batch wire format, and one outcome per message.
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

    it('sends an ordering key as the messagebox-key header and in the signed body; none for an unkeyed message', async () => {
      const secret = generateWebhookSecret();
      const keyed = createMessage({ type: 'payment.created', source: 'vault', payload: 1, key: 'account 7' }, { now: new Date() });
      await transport({ secret }).send(keyed, { attempt: 1 });
      await transport({ secret }).send(message(), { attempt: 1 });
      const [withKey, without] = server.requests;
      expect(withKey!.headers['messagebox-key']).toBe('account 7');
      expect(JSON.parse(withKey!.body).key).toBe('account 7');
      expect(new Webhook(secret).verify(withKey!.body, withKey!.headers as Record<string, string>)).toMatchObject({ key: 'account 7' });
      expect(without!.headers['messagebox-key']).toBeUndefined();
      expect(JSON.parse(without!.body).key).toBeUndefined();
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

    it('503/429 with Retry-After: busy (the outbox pauses the destination, the attempt is not counted); without Retry-After, or another status with one: not busy', async () => {
      const now = Date.parse('2030-06-01T12:00:00Z');
      server.respond((req, res) => {
        const [status, retryAfter] = new URL(req.url, 'http://x').searchParams.get('a')!.split(',');
        res.writeHead(Number(status), retryAfter === 'date' ? { 'retry-after': new Date(now + 90_000).toUTCString() } : retryAfter ? { 'retry-after': retryAfter } : {}).end('shedding load');
      });
      const answer = (a: string) => failure(transport({ url: `${server.url}?a=${a}`, clock: { now: () => now } }).send(message(), { attempt: 1 }));
      const seconds = await answer('503,5');
      expect(seconds).toMatchObject({ busy: true, retryable: true, status: 503, retryAfterMs: 5_000, notAttempted: false });
      expect(seconds.message).toMatch(/destination busy.*retry after 5 s/);
      expect(await answer('429,date')).toMatchObject({ busy: true, status: 429, retryAfterMs: 90_000 });
      expect(await answer('503')).toMatchObject({ busy: false, status: 503, retryable: true });
      expect(await answer('500,5')).toMatchObject({ busy: false, status: 500, retryAfterMs: 5_000 });
      expect(await answer('503,soon')).toMatchObject({ busy: false, status: 503, retryAfterMs: undefined });
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
      if (harness.socketsOwnedByRuntime === undefined) expect(server.connections - before).toBeLessThanOrEqual(2);
      else {
        if (!harness.socketsOwnedByRuntime.trim()) throw new Error('[messagebox] socketsOwnedByRuntime needs a reason');
        expect(server.maxInFlight).toBeLessThanOrEqual(2);
      }
    });

    const batchIt = (name: string, fn: () => Promise<void>) => {
      if (harness.withoutBatch !== undefined) {
        if (!harness.withoutBatch.trim()) throw new Error('[messagebox] withoutBatch needs a reason');
        it.skip(`${name} (skipped: ${harness.withoutBatch})`, fn);
      } else it(name, fn);
    };
    const sendBatch = (t: Transport, messages: Message[]): Promise<readonly SendOutcome[]> => {
      expect(typeof t.sendBatch).toBe('function');
      return t.sendBatch!(messages, { attempts: messages.map(() => 1) });
    };
    /** Answers a batch as a messagebox inbox would: `created` for each, or what `resultFor` says. */
    const answerBatch = (resultFor: (item: { id: string }, i: number) => Record<string, unknown> = () => ({ status: 'created' })) =>
      server.respond((req, res: ServerResponse) => {
        const items = (JSON.parse(req.body) as { messages: Array<{ id: string }> }).messages;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: items.map((item, i) => ({ id: item.id, ...resultFor(item, i) })) }));
      });
    const errorOf = (outcome: SendOutcome | undefined): TransportError => {
      expect(outcome?.delivered).toBe(false);
      const error = (outcome as { error: unknown }).error;
      expect(error).toBeInstanceOf(TransportError);
      return error as TransportError;
    };

    batchIt('sendBatch: one request signed over the whole body under a batch id, in the batch wire format', async () => {
      const secret = generateWebhookSecret();
      answerBatch();
      const messages = [message({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }), message(), message()];
      const outcomes = await sendBatch(transport({ secret }), messages);
      expect(outcomes).toEqual(messages.map(() => ({ delivered: true })));
      expect(server.requests).toHaveLength(1);
      const req = server.requests[0]!;
      expect(req.method).toBe('POST');
      expect(req.headers['content-type']).toBe(BATCH_CONTENT_TYPE);
      const batchId = req.headers['webhook-id'] as string;
      expect(batchId).toMatch(/^batch_/);
      expect(messages.map((m) => m.id)).not.toContain(batchId);
      expect(new Webhook(secret).verify(req.body, req.headers as Record<string, string>)).toEqual(JSON.parse(req.body));
      expect(() => new Webhook(generateWebhookSecret()).verify(req.body, req.headers as Record<string, string>)).toThrow();
      expect(JSON.parse(req.body)).toEqual({
        messages: messages.map((m) => ({
          id: m.id,
          type: 'payment.created',
          timestamp: '2030-01-02T03:04:05.678Z',
          data: { amount: 100, note: 'é' },
          source: 'vault',
          ...(Object.keys(m.headers).length ? { headers: m.headers } : {}),
        })),
      });
      await sendBatch(transport({ secret }), messages);
      expect(server.requests[1]!.headers['webhook-id']).not.toBe(batchId);
    });

    batchIt('sendBatch: each message of a batch carries its own key in the body', async () => {
      answerBatch();
      const keyed = (key?: string) => createMessage({ type: 'payment.created', source: 'vault', payload: 1, ...(key ? { key } : {}) }, { now: new Date() });
      const messages = [keyed('a'), keyed(), keyed('b')];
      await sendBatch(transport(), messages);
      const items = JSON.parse(server.requests[0]!.body).messages as { key?: string }[];
      expect(items.map((i) => i.key)).toEqual(['a', undefined, 'b']);
    });

    batchIt('sendBatch: one outcome per message from the answer (created, duplicate, rejected permanent or retryable)', async () => {
      answerBatch((_item, i) =>
        [
          { status: 'created' },
          { status: 'duplicate' },
          { status: 'rejected', error: { code: 'invalid_message', message: '"data" is required', status: 422 } },
          { status: 'rejected', error: { code: 'handler_failed', message: 'the handler failed', status: 500 } },
        ][i]!,
      );
      const messages = [message(), message(), message(), message()];
      const outcomes = await sendBatch(transport(), messages);
      expect(outcomes.slice(0, 2)).toEqual([{ delivered: true }, { delivered: true }]);
      const permanent = errorOf(outcomes[2]);
      expect(permanent).toMatchObject({ retryable: false, status: 422 });
      expect(permanent.message).toContain(messages[2]!.id);
      expect(permanent.message).toContain('invalid_message');
      expect(errorOf(outcomes[3])).toMatchObject({ retryable: true, status: 500 });
    });

    batchIt('sendBatch: a busy answer (503 + Retry-After) makes every message busy', async () => {
      const messages = [message(), message()];
      server.respond((_req, res) => res.writeHead(503, { 'retry-after': '3' }).end());
      for (const outcome of await sendBatch(transport(), messages)) expect(errorOf(outcome)).toMatchObject({ busy: true, retryAfterMs: 3_000 });
    });

    batchIt('sendBatch: a non-2xx answer fails every message with that status (Retry-After kept; 413/415/422 retryable: the batch was refused, not its messages)', async () => {
      const messages = [message(), message()];
      server.respond((_req, res) => res.writeHead(503, { 'retry-after': '7' }).end());
      for (const outcome of await sendBatch(transport(), messages)) expect(errorOf(outcome)).toMatchObject({ retryable: true, status: 503, retryAfterMs: 7_000 });
      server.respond((_req, res) => res.writeHead(401).end());
      for (const outcome of await sendBatch(transport(), messages)) expect(errorOf(outcome)).toMatchObject({ retryable: false, status: 401 });
      for (const status of [413, 415, 422]) {
        server.respond((_req, res) => res.writeHead(status).end());
        for (const outcome of await sendBatch(transport(), messages)) {
          const error = errorOf(outcome);
          expect(error).toMatchObject({ retryable: true, status });
          expect(error.message).toMatch(/batch/);
        }
      }
    });

    batchIt('sendBatch: an unreadable 2xx answer fails every message, retryably', async () => {
      const messages = [message(), message()];
      const answers: Array<(ids: string[]) => string> = [
        () => 'not json',
        () => '{"status":"created"}',
        (ids) => JSON.stringify({ results: [{ id: ids[0], status: 'created' }] }),
        (ids) => JSON.stringify({ results: [{ id: ids[1], status: 'created' }, { id: ids[0], status: 'created' }] }),
        (ids) => JSON.stringify({ results: ids.map((id) => ({ id, status: 'stored' })) }),
      ];
      for (const answer of answers) {
        server.respond((req, res) => {
          const ids = (JSON.parse(req.body) as { messages: Array<{ id: string }> }).messages.map((m) => m.id);
          res.writeHead(200, { 'content-type': 'application/json' }).end(answer(ids));
        });
        const outcomes = await sendBatch(transport(), messages);
        expect(outcomes).toHaveLength(2);
        for (const outcome of outcomes) expect(errorOf(outcome).retryable).toBe(true);
      }
    });

    batchIt('sendBatch: no answer within the timeout or connection refused fails every message, retryably', async () => {
      server.respond(() => {});
      const timedOut = await sendBatch(transport({ timeoutMs: 300 }), [message(), message()]);
      for (const outcome of timedOut) expect(errorOf(outcome)).toMatchObject({ retryable: true, timedOut: true });
      const refused = await sendBatch(transport({ url: `http://127.0.0.1:${await unusedPort()}/inbox` }), [message(), message()]);
      for (const outcome of refused) expect(errorOf(outcome).retryable).toBe(true);
    });
  });
}
