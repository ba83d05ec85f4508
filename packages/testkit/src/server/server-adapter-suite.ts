import {
  BATCH_CONTENT_TYPE,
  createInbox,
  createMemoryInboxStore,
  createWebhookSigner,
  generateWebhookSecret,
  silentLogger,
  type InboxHandler,
  type InboxOptions,
  type InboxReceiver,
  type InboxRequestHandlerOptions,
  type InboxStore,
  type Logger,
} from '@messagebox/core';
import * as fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { runBadInputProperty } from './bad-input-property.js';
import { rawRequest, trickleUntilClosed, type RunningServer } from './loopback.js';
import { signWithReference } from './signed-request.js';

/**
 * What a server adapter gives the suite: a way to serve an inbox endpoint
 * over real HTTP on 127.0.0.1.
 *
 * @example
 * const harness: ServerAdapterHarness = {
 *   name: 'hono',
 *   async start(inbox, options) {
 *     const app = new Hono().all('/inbox', honoInbox(inbox, options));
 *     return listenOnLoopback(createAdaptorServer({ fetch: app.fetch }) as Server);
 *   },
 * };
 */
export interface ServerAdapterHarness {
  name: string;
  /**
   * Serves the endpoint built with `options` at `/inbox`, for every method,
   * on 127.0.0.1 (port 0). Rejects (or throws) when the options are refused.
   */
  start(inbox: InboxReceiver, options: InboxRequestHandlerOptions): Promise<RunningServer>;
}

/** Every case of the server adapter suite, by name (for `skip`). */
export const serverAdapterCases = [
  'accepts a request signed by the reference implementation',
  'accepts a generic Standard Webhooks body without source',
  'takes the time from webhook-timestamp when the body has no timestamp',
  'rejects impossible date-times with 422 instead of shifting them',
  'refuses control characters in header values; a 422 repeats a huge invalid value briefly',
  'answers 408 for a body that trickles past the body-read deadline, storing nothing',
  'accepts every secret during a rotation and any matching signature in the header',
  'answers a duplicate with 2xx and stores nothing new',
  'stores concurrent duplicates once',
  'rejects a tampered body',
  'rejects a signature made with another key',
  'rejects a re-serialised JSON body',
  'rejects a signature made for another id or timestamp',
  'rejects timestamps outside the tolerance',
  'rejects requests with a missing signature header',
  'rejects other methods with 405',
  'rejects other content types with 415',
  'rejects a declared body over the limit with 413 without reading it',
  'rejects a streamed body over the limit with 413 while it is still being sent',
  'rejects malformed JSON with 400',
  'rejects missing or ill-typed fields with 422',
  'rejects an unknown type with 422 by default',
  'stores an unknown type when the inbox accepts unknown types',
  'answers 503 when the store fails',
  'logs a store failure with its cause as text a JSON logger keeps',
  'inline mode: stores and handles before answering; a failing handler answers 5xx and stores nothing',
  'allowUnsigned: accepts unsigned requests and warns once',
  'refuses to start without a secret or allowUnsigned',
  'survives at least 1000 generated malformed requests: no 5xx, nothing stored for a rejection',
  'batch: stores every message of a signed batch and answers one result per message, in order',
  'batch: answers duplicates inside a batch and across batches, storing each once',
  'batch: rejects invalid messages on their own and stores the valid ones',
  'batch: rejects a tampered body or a signature for another id, storing nothing',
  'batch: enforces maxMessages and maxBytes with 413, storing nothing',
  'batch: rejects a body that is not a batch with 422 invalid_batch',
  'batch: answers 503 for the whole batch when the store fails',
  'batch: inline mode answers a failing handler as a retryable rejection of that message',
  'batch: refused with 415 when the endpoint turns batches off',
  'batch: survives 200 generated batches of valid and malformed messages: one result each, exactly the created ones stored',
  'shedLoad: over maxBacklog answers 503 overloaded with Retry-After, single and batch, storing nothing; accepts again once the backlog drops',
  'shedLoad: over maxInFlightReceives answers 429 when asked to, storing nothing; bad shedLoad options are refused',
  'ordering: stores the key from the body or the messagebox-key header; a header that differs from the body is refused with 422',
  'ordering: a batch stores each message with its own key',
] as const;

export type ServerAdapterCase = (typeof serverAdapterCases)[number];

/** Options of {@link runServerAdapterSuite}. */
export interface ServerAdapterSuiteOptions {
  /** A fresh inbox store per test (and `close` afterwards). Default: core's in-memory store. */
  createStore?: () => Promise<{ store: InboxStore<any>; close?: () => Promise<void> }>;
  /** Cases not run, each with the reason. Naming a case that does not exist fails the suite. */
  skip?: Partial<Record<ServerAdapterCase, string>>;
  /** Generated requests of the bad-input property. Default 1000. */
  badInputRuns?: number;
}

const TYPE = 'order.created';

/**
 * The conformance suite for inbox endpoints: every case of core's request
 * handler contract, over real HTTP, with the store checked after each
 * rejection. Requests are signed with the independent `standardwebhooks`
 * package. An adapter's test file only calls it.
 *
 * @example
 * runServerAdapterSuite(honoHarness);
 * runServerAdapterSuite(honoHarness, { createStore: sqliteInboxStore });
 */
export function runServerAdapterSuite(harness: ServerAdapterHarness, options: ServerAdapterSuiteOptions = {}): void {
  const skip: Record<string, string> = { ...options.skip };
  const unknownSkips = Object.keys(skip).filter((name) => !(serverAdapterCases as readonly string[]).includes(name));

  describe(`server adapter conformance: ${harness.name}`, () => {
    if (unknownSkips.length > 0) {
      it('skip names only existing cases', () => {
        expect.fail(`skip names cases that do not exist: ${unknownSkips.join(', ')}`);
      });
    }
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const test = (name: ServerAdapterCase, fn: () => Promise<void>, timeoutMs?: number) => {
      const reason = skip[name];
      if (reason !== undefined) {
        if (!reason.trim()) throw new Error(`[messagebox] skipping "${name}" needs a reason`);
        it.skip(`${name} (skipped: ${reason})`, fn);
      } else it(name, fn, timeoutMs);
    };

    interface Setup {
      endpoint?: Partial<InboxRequestHandlerOptions>;
      inbox?: Partial<Pick<InboxOptions<unknown>, 'mode' | 'unknownTypes'>>;
      handler?: InboxHandler<any>;
      failingStore?: boolean;
    }

    async function setup(config: Setup = {}) {
      const { store: baseStore, close } = options.createStore ? await options.createStore() : { store: createMemoryInboxStore(), close: undefined };
      if (close) cleanups.push(close);
      const store: InboxStore<any> = config.failingStore ? failing(baseStore) : baseStore;
      const inbox = createInbox({ store, logger: silentLogger, retry: { initialDelayMs: 60_000 }, ...config.inbox });
      inbox.on(TYPE, config.handler ?? (() => {}));
      const secret = generateWebhookSecret();
      const endpoint: InboxRequestHandlerOptions = { secret, logger: silentLogger, ...config.endpoint };
      const server = await harness.start(inbox, endpoint);
      cleanups.push(async () => {
        await server.close();
        await inbox.stop();
      });
      const url = `${server.url}/inbox`;
      let n = 0;
      const nextId = () => `msg_${harness.name.replace(/[^A-Za-z0-9]+/g, '_')}_${Date.now().toString(36)}_${n++}`;
      return {
        url,
        inbox,
        store: baseStore,
        secret,
        nextId,
        count: async () => {
          const stats = await baseStore.stats();
          return stats.received + stats.processed + stats.dead;
        },
        /** Signs `body` (default: a valid body) with the reference library and POSTs it. */
        post: async (init: { body?: string; id?: string; secret?: string; timestamp?: Date; headers?: Record<string, string>; contentType?: string } = {}) => {
          const id = init.id ?? nextId();
          const body = init.body ?? validBody();
          const signed = signWithReference({ secret: init.secret ?? secret, id, body, timestamp: init.timestamp, contentType: init.contentType });
          const response = await fetch(url, { method: 'POST', headers: { ...signed.headers, ...init.headers }, body });
          return { id, response, json: (await response.json().catch(() => undefined)) as any };
        },
        /** Signs a batch of `items` (objects, or raw `body`) with the reference library under a batch id and POSTs it. */
        postBatch: async (items: unknown[], init: { body?: string; batchId?: string; secret?: string; tamper?: (body: string) => string } = {}) => {
          const batchId = init.batchId ?? `batch_${nextId()}`;
          const body = init.body ?? JSON.stringify({ messages: items });
          const signed = signWithReference({ secret: init.secret ?? secret, id: batchId, body, contentType: BATCH_CONTENT_TYPE });
          const response = await fetch(url, { method: 'POST', headers: signed.headers, body: init.tamper ? init.tamper(body) : body });
          return { batchId, response, json: (await response.json().catch(() => undefined)) as any };
        },
      };
    }

    const item = (id: string, overrides: Record<string, unknown> = {}) => ({ id, ...JSON.parse(validBody(overrides)) });

    async function expectRejected(
      result: { response: Response; json: any } | { status: number; headers: Record<string, unknown>; body: string },
      status: number,
      code: string,
    ) {
      const actualStatus = 'response' in result ? result.response.status : result.status;
      const json = 'response' in result ? result.json : JSON.parse(result.body);
      const contentType = 'response' in result ? result.response.headers.get('content-type') : String(result.headers['content-type']);
      expect({ status: actualStatus, code: json?.error?.code }).toEqual({ status, code });
      expect(typeof json.error.message).toBe('string');
      expect(json.error.message.length).toBeGreaterThan(0);
      expect(contentType).toMatch(/^application\/json/);
    }

    test('accepts a request signed by the reference implementation', async () => {
      const s = await setup();
      const body = JSON.stringify({
        type: TYPE,
        timestamp: '2030-01-02T03:04:05.678Z',
        data: { amount: 100, items: [1, 'two', null, true], nested: { 'é': '✓' } },
        source: 'vault',
        headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      });
      const { id, response, json } = await s.post({ body });
      expect(response.status).toBe(200);
      expect(json).toEqual({ status: 'created', id });
      const row = await s.store.get({ source: 'vault', id });
      expect(row).toMatchObject({
        id,
        type: TYPE,
        source: 'vault',
        payload: { amount: 100, items: [1, 'two', null, true], nested: { 'é': '✓' } },
        headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      });
      expect(row!.createdAt.toISOString()).toBe('2030-01-02T03:04:05.678Z');
      expect(await s.count()).toBe(1);
    });

    test('accepts a generic Standard Webhooks body without source', async () => {
      const s = await setup();
      const body = JSON.stringify({ type: TYPE, timestamp: '2022-11-03T20:26:10.344522Z', data: { id: 'ord_1' }, extra: 'ignored' });
      const { id, response } = await s.post({ body, id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' });
      expect(response.status).toBe(200);
      expect(await s.store.get({ source: 'webhook', id })).toMatchObject({ source: 'webhook', type: TYPE, payload: { id: 'ord_1' }, headers: {} });
      const custom = await setup({ endpoint: { defaultSource: 'stripe' } });
      const second = await custom.post({ body });
      expect((await custom.store.get({ source: 'stripe', id: second.id }))?.source).toBe('stripe');
    });

    test('takes the time from webhook-timestamp when the body has no timestamp', async () => {
      const s = await setup();
      const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 42_000);
      const body = JSON.stringify({ type: TYPE, data: { id: 'ord_2' } });
      const { id, response, json } = await s.post({ body, timestamp: signedAt });
      expect({ status: response.status, json }).toEqual({ status: 200, json: { status: 'created', id } });
      expect((await s.store.get({ source: 'webhook', id }))?.createdAt.toISOString()).toBe(signedAt.toISOString());
    });

    test('rejects impossible date-times with 422 instead of shifting them', async () => {
      const s = await setup();
      for (const timestamp of ['2026-02-30T00:00:00Z', '2025-02-29T12:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T12:60:00Z', '2026-01-01T12:00:60Z', '2026-01-01T00:00:00+24:00']) {
        const result = await s.post({ body: validBody({ timestamp }) });
        await expectRejected(result, 422, 'invalid_message');
        expect(result.json.error.message).toContain(`"timestamp" is not a real date-time: "${timestamp}"`);
      }
      expect(await s.count()).toBe(0);
      const { id, response } = await s.post({ body: validBody({ timestamp: '2028-02-29T23:30:00-01:00' }) });
      expect(response.status).toBe(200);
      expect((await s.store.get({ source: 'testkit', id }))?.createdAt.toISOString()).toBe('2028-03-01T00:30:00.000Z');
    });

    test('refuses control characters in header values; a 422 repeats a huge invalid value briefly', async () => {
      const s = await setup();
      const hostile = '\x1b]0;owned\x07\x1b[2J\x9b1m';
      for (const value of [hostile, 'bell\x07', 'del\x7f', 'line\nbreak']) {
        const result = await s.post({ body: validBody({ headers: { tenant: value } }) });
        await expectRejected(result, 422, 'invalid_message');
        expect(result.json.error.message).toMatch(/control characters/);
      }
      expect(await s.count()).toBe(0);
      const tab = await s.post({ body: validBody({ headers: { tenant: 'a\tb', note: '\u202eRTL' } }) });
      expect(tab.response.status).toBe(200);
      expect((await s.store.get({ source: 'testkit', id: tab.id }))?.headers).toEqual({ tenant: 'a\tb', note: '\u202eRTL' });

      const huge = 'x'.repeat(16 * 1024);
      const refusals = [
        await s.post({ body: validBody({ type: `bad type ${huge}` }) }),
        await s.post({ body: validBody({ timestamp: `2030-01-01T00:00:00Z${huge}` }) }),
        await s.post({ body: validBody({ headers: { [`bad name ${huge}`]: 'v' } }) }),
        await s.post({ body: validBody({ headers: { tenant: `\x1b${huge}` } }) }),
        await s.post({ id: `has space ${'y'.repeat(8 * 1024)}` }),
      ];
      for (const result of refusals) {
        await expectRejected(result, 422, 'invalid_message');
        expect(result.json.error.message.length).toBeLessThanOrEqual(300);
        expect(result.json.error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }
      expect(await s.count()).toBe(1);
    });

    test(
      'answers 408 for a body that trickles past the body-read deadline, storing nothing',
      async () => {
        const s = await setup({ endpoint: { bodyTimeoutMs: 1_000 } });
        const signed = signWithReference({ secret: s.secret, id: s.nextId(), body: validBody() });
        const bytes = new TextEncoder().encode(signed.body);
        const answer = await trickleUntilClosed(s.url, { ...signed.headers, 'content-length': String(bytes.length) }, bytes);
        expect(answer.status).toBe(408);
        expect(answer.text).toContain('"code":"body_timeout"');
        expect(await s.count()).toBe(0);
        expect((await s.post()).response.status).toBe(200);
        expect(await s.count()).toBe(1);
      },
      90_000,
    );

    test('accepts every secret during a rotation and any matching signature in the header', async () => {
      const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
      const s = await setup({ endpoint: { secret: undefined, secrets: [newSecret, oldSecret] } });
      expect((await s.post({ secret: oldSecret })).response.status).toBe(200);
      expect((await s.post({ secret: newSecret })).response.status).toBe(200);
      await expectRejected(await s.post({ secret: generateWebhookSecret() }), 401, 'invalid_signature');

      const id = s.nextId();
      const body = validBody();
      const good = signWithReference({ secret: oldSecret, id, body });
      const wrong = signWithReference({ secret: generateWebhookSecret(), id, body });
      const signature = `v1a,c29tZXRoaW5n ${wrong.headers['webhook-signature']} ${good.headers['webhook-signature']}`;
      const response = await fetch(s.url, { method: 'POST', headers: { ...good.headers, 'webhook-signature': signature }, body });
      expect(response.status).toBe(200);

      // Two webhook-signature header lines arrive joined as "v1,<a>, v1,<b>"; the reference library accepts either.
      const twoLines = signWithReference({ secret: newSecret, id: s.nextId(), body });
      const joined = `${twoLines.headers['webhook-signature']}, ${wrong.headers['webhook-signature']}`;
      const viaTwoLines = await fetch(s.url, { method: 'POST', headers: { ...twoLines.headers, 'webhook-signature': joined }, body });
      expect(viaTwoLines.status).toBe(200);
      expect(await s.count()).toBe(4);
    });

    test('answers a duplicate with 2xx and stores nothing new', async () => {
      const s = await setup();
      const first = await s.post({ body: validBody({ data: { version: 1 } }) });
      expect(first.json.status).toBe('created');
      const again = await s.post({ id: first.id, body: validBody({ data: { version: 2 } }) });
      expect(again.response.status).toBe(200);
      expect(again.json).toEqual({ status: 'duplicate', id: first.id });
      expect(await s.count()).toBe(1);
      expect((await s.store.get({ source: 'testkit', id: first.id }))?.payload).toEqual({ version: 1 });
    });

    test('stores concurrent duplicates once', async () => {
      const s = await setup();
      const id = s.nextId();
      const results = await Promise.all(Array.from({ length: 10 }, () => s.post({ id })));
      expect(results.map((r) => r.response.status)).toEqual(Array(10).fill(200));
      expect(results.filter((r) => r.json.status === 'created')).toHaveLength(1);
      expect(await s.count()).toBe(1);
    });

    test('rejects a tampered body', async () => {
      const s = await setup();
      const id = s.nextId();
      const body = validBody({ data: { amount: 100 } });
      const signed = signWithReference({ secret: s.secret, id, body });
      for (const tampered of [body.replace('100', '900'), `${body} `, body.slice(0, -1), `${body}\n`]) {
        const response = await fetch(s.url, { method: 'POST', headers: signed.headers, body: tampered });
        await expectRejected({ response, json: await response.json() }, 401, 'invalid_signature');
      }
      expect(await s.count()).toBe(0);
    });

    test('rejects a signature made with another key', async () => {
      const s = await setup();
      await expectRejected(await s.post({ secret: generateWebhookSecret() }), 401, 'invalid_signature');
      const id = s.nextId();
      const signed = signWithReference({ secret: s.secret, id, body: validBody() });
      for (const signature of ['v1,', 'v1,AAAA', 'v2,' + signed.headers['webhook-signature']!.slice(3), signed.headers['webhook-signature']!.slice(3), 'garbage']) {
        const response = await fetch(s.url, { method: 'POST', headers: { ...signed.headers, 'webhook-signature': signature }, body: signed.body });
        await expectRejected({ response, json: await response.json() }, 401, 'invalid_signature');
      }
      expect(await s.count()).toBe(0);
    });

    test('rejects a re-serialised JSON body', async () => {
      const s = await setup();
      const id = s.nextId();
      const body = validBody({ data: { b: 1, a: [1, 2] } });
      const signed = signWithReference({ secret: s.secret, id, body });
      const value = JSON.parse(body);
      const reserialised = [
        JSON.stringify(value, null, 2),
        JSON.stringify(Object.fromEntries(Object.entries(value).reverse())),
        body.replace('"data":', '"data" :'),
        body.replace('"b":1', '"b":1.0'),
        body.replace('order', '\\u006frder'),
      ];
      for (const text of reserialised) {
        expect(JSON.parse(text)).toEqual(value);
        const response = await fetch(s.url, { method: 'POST', headers: signed.headers, body: text });
        await expectRejected({ response, json: await response.json() }, 401, 'invalid_signature');
      }
      expect(await s.count()).toBe(0);
    });

    test('rejects a signature made for another id or timestamp', async () => {
      const s = await setup();
      const signed = signWithReference({ secret: s.secret, id: s.nextId(), body: validBody() });
      const otherId = await fetch(s.url, { method: 'POST', headers: { ...signed.headers, 'webhook-id': s.nextId() }, body: signed.body });
      await expectRejected({ response: otherId, json: await otherId.json() }, 401, 'invalid_signature');
      const shifted = String(Number(signed.headers['webhook-timestamp']) - 1);
      const otherTime = await fetch(s.url, { method: 'POST', headers: { ...signed.headers, 'webhook-timestamp': shifted }, body: signed.body });
      await expectRejected({ response: otherTime, json: await otherTime.json() }, 401, 'invalid_signature');
      expect(await s.count()).toBe(0);
    });

    test('rejects timestamps outside the tolerance', async () => {
      const s = await setup();
      const at = (seconds: number) => new Date(Date.now() + seconds * 1000);
      await expectRejected(await s.post({ timestamp: at(-310) }), 401, 'timestamp_out_of_range');
      await expectRejected(await s.post({ timestamp: at(310) }), 401, 'timestamp_out_of_range');
      await expectRejected(await s.post({ timestamp: new Date(0) }), 401, 'timestamp_out_of_range');
      expect(await s.count()).toBe(0);
      expect((await s.post({ timestamp: at(-280) })).response.status).toBe(200);
      expect((await s.post({ timestamp: at(280) })).response.status).toBe(200);

      const strict = await setup({ endpoint: { toleranceSeconds: 30 } });
      await expectRejected(await strict.post({ timestamp: at(-60) }), 401, 'timestamp_out_of_range');
      expect((await strict.post({ timestamp: at(-10) })).response.status).toBe(200);

      const signed = signWithReference({ secret: s.secret, id: s.nextId(), body: validBody() });
      for (const value of ['soon', '1e9', '-5', `${signed.headers['webhook-timestamp']}.5`]) {
        const response = await fetch(s.url, { method: 'POST', headers: { ...signed.headers, 'webhook-timestamp': value }, body: signed.body });
        expect(response.status).toBe(401);
      }
      expect(await s.count()).toBe(2);
    });

    test('rejects requests with a missing signature header', async () => {
      const s = await setup();
      const signed = signWithReference({ secret: s.secret, id: s.nextId(), body: validBody() });
      for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
        const headers = { ...signed.headers };
        delete headers[name];
        const response = await fetch(s.url, { method: 'POST', headers, body: signed.body });
        await expectRejected({ response, json: await response.json() }, 401, 'missing_signature');
      }
      const bare = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: signed.body });
      await expectRejected({ response: bare, json: await bare.json() }, 401, 'missing_signature');
      expect(await s.count()).toBe(0);
    });

    test('rejects other methods with 405', async () => {
      const s = await setup();
      const signed = signWithReference({ secret: s.secret, id: s.nextId(), body: validBody() });
      for (const method of ['PUT', 'PATCH', 'DELETE']) {
        const response = await fetch(s.url, { method, headers: signed.headers, body: signed.body });
        await expectRejected({ response, json: await response.json() }, 405, 'method_not_allowed');
        expect(response.headers.get('allow')).toBe('POST');
      }
      for (const method of ['GET', 'OPTIONS']) {
        const response = await fetch(s.url, { method, headers: signed.headers });
        await expectRejected({ response, json: await response.json() }, 405, 'method_not_allowed');
      }
      const head = await fetch(s.url, { method: 'HEAD' });
      expect(head.status).toBe(405);
      expect(await s.count()).toBe(0);
    });

    test('rejects other content types with 415', async () => {
      const s = await setup();
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'multipart/form-data; boundary=x', 'json']) {
        await expectRejected(await s.post({ contentType }), 415, 'unsupported_media_type');
      }
      const id = s.nextId();
      const signed = signWithReference({ secret: s.secret, id, body: validBody() });
      const { ['content-type']: _, ...withoutType } = signed.headers;
      const response = await fetch(s.url, { method: 'POST', headers: withoutType, body: new TextEncoder().encode(signed.body) });
      await expectRejected({ response, json: await response.json() }, 415, 'unsupported_media_type');
      expect(await s.count()).toBe(0);
      expect((await s.post({ contentType: 'application/json; charset=utf-8' })).response.status).toBe(200);
      expect((await s.post({ contentType: 'Application/JSON' })).response.status).toBe(200);
      expect((await s.post({ contentType: 'application/webhook+json' })).response.status).toBe(200);
    });

    test('rejects a declared body over the limit with 413 without reading it', async () => {
      const s = await setup({ endpoint: { maxBodyBytes: 1024 } });
      const signed = signWithReference({ secret: s.secret, id: s.nextId(), body: validBody() });
      const result = await rawRequest(s.url, {
        headers: { ...signed.headers, 'content-length': String(50 * 1024 * 1024) },
        holdOpen: true,
      });
      await expectRejected(result, 413, 'payload_too_large');
      expect(await s.count()).toBe(0);
    });

    test('rejects a streamed body over the limit with 413 while it is still being sent', async () => {
      const limit = 16 * 1024;
      const s = await setup({ endpoint: { maxBodyBytes: limit } });
      const id = s.nextId();
      const big = validBody({ data: { filler: 'x'.repeat(limit * 4) } });
      const signed = signWithReference({ secret: s.secret, id, body: big });
      const bytes = new TextEncoder().encode(big);
      const chunks = Array.from({ length: Math.ceil(bytes.length / 4096) }, (_, i) => bytes.subarray(i * 4096, (i + 1) * 4096));
      const result = await rawRequest(s.url, { headers: signed.headers, body: chunks, holdOpen: true });
      await expectRejected(result, 413, 'payload_too_large');

      const atLimit = validBody({ data: { filler: '' } });
      const padded = atLimit.replace('"filler":""', `"filler":"${'y'.repeat(limit - atLimit.length)}"`);
      expect(new TextEncoder().encode(padded).length).toBe(limit);
      expect((await s.post({ body: padded })).response.status).toBe(200);
      expect(await s.count()).toBe(1);
    });

    test('rejects malformed JSON with 400', async () => {
      const s = await setup();
      for (const body of ['', '{', '{"type":', 'not json', '{"type":"order.created"} trailing', "{'a':1}", '\u0000']) {
        await expectRejected(await s.post({ body }), 400, 'malformed_json');
      }
      const id = s.nextId();
      const invalidUtf8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = await createWebhookSigner({ secret: s.secret }).sign({ id, timestamp, body: invalidUtf8 });
      const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
      const response = await fetch(s.url, { method: 'POST', headers, body: invalidUtf8 });
      await expectRejected({ response, json: await response.json() }, 400, 'malformed_json');
      expect(await s.count()).toBe(0);
    });

    test('rejects missing or ill-typed fields with 422', async () => {
      const s = await setup();
      const base = JSON.parse(validBody());
      const bodies: unknown[] = [
        [],
        'a string',
        42,
        null,
        { ...base, type: undefined },
        { ...base, type: 7 },
        { ...base, type: '' },
        { ...base, type: 'has space' },
        { ...base, data: undefined },
        { ...base, timestamp: 'yesterday' },
        { ...base, timestamp: 1700000000 },
        { ...base, timestamp: '2030-13-45T99:99:99Z' },
        { ...base, source: 12 },
        { ...base, source: '' },
        { ...base, headers: 'x' },
        { ...base, headers: ['a'] },
        { ...base, headers: { a: 1 } },
        { ...base, data: nest(200) },
      ];
      for (const value of bodies) {
        const result = await s.post({ body: JSON.stringify(value) });
        await expectRejected(result, 422, 'invalid_message');
      }
      for (const id of ['has space', 'x'.repeat(300), 'tab\there']) {
        await expectRejected(await s.post({ id }), 422, 'invalid_message');
      }
      expect(await s.count()).toBe(0);
    });

    test('rejects an unknown type with 422 by default', async () => {
      const s = await setup();
      await expectRejected(await s.post({ body: validBody({ type: 'nobody.handles.this' }) }), 422, 'unknown_type');
      expect(await s.count()).toBe(0);
    });

    test('stores an unknown type when the inbox accepts unknown types', async () => {
      const s = await setup({ inbox: { unknownTypes: 'accept' } });
      const { id, response } = await s.post({ body: validBody({ type: 'nobody.handles.this' }) });
      expect(response.status).toBe(200);
      expect((await s.store.get({ source: 'testkit', id }))?.status).toBe('received');
    });

    test('answers 503 when the store fails', async () => {
      const s = await setup({ failingStore: true });
      await expectRejected(await s.post(), 503, 'store_unavailable');
      expect(await s.count()).toBe(0);
    });

    test('logs a store failure with its cause as text a JSON logger keeps', async () => {
      const lines: string[] = [];
      const jsonLogger: Logger = { ...silentLogger, error: (fields, message) => void lines.push(JSON.stringify({ message, ...fields })) };
      const s = await setup({ failingStore: true, endpoint: { logger: jsonLogger } });
      await expectRejected(await s.post(), 503, 'store_unavailable');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ error: expect.stringContaining('database is down') });
    });

    test('inline mode: stores and handles before answering; a failing handler answers 5xx and stores nothing', async () => {
      const handled: string[] = [];
      const ok = await setup({ inbox: { mode: 'inline' }, handler: (message) => void handled.push(message.id) });
      const first = await ok.post();
      expect(first.response.status).toBe(200);
      expect(handled).toEqual([first.id]);
      expect((await ok.store.get({ source: 'testkit', id: first.id }))?.status).toBe('processed');

      const failingHandler = await setup({ inbox: { mode: 'inline' }, handler: () => Promise.reject(new Error('ledger down')) });
      const failed = await failingHandler.post();
      expect(failed.response.status).toBeGreaterThanOrEqual(500);
      expect(failed.json.error.code).toBe('handler_failed');
      expect(await failingHandler.count()).toBe(0);
    });

    test('allowUnsigned: accepts unsigned requests and warns once', async () => {
      const warnings: string[] = [];
      const logger: Logger = { ...silentLogger, warn: (_fields, message) => void warnings.push(message) };
      const s = await setup({ endpoint: { secret: undefined, allowUnsigned: true, logger } });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/unsigned/i);
      const id = s.nextId();
      const response = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': id }, body: validBody() });
      expect(response.status).toBe(200);
      expect(await s.store.get({ source: 'testkit', id })).not.toBeNull();
      const noId = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: validBody() });
      await expectRejected({ response: noId, json: await noId.json() }, 422, 'invalid_message');
      expect(warnings).toHaveLength(1);
      expect(await s.count()).toBe(1);
    });

    test('refuses to start without a secret or allowUnsigned', async () => {
      const inbox = createInbox({ store: createMemoryInboxStore(), logger: silentLogger });
      const attempt = async (endpoint: InboxRequestHandlerOptions) => {
        const server = await harness.start(inbox, endpoint);
        await server.close();
      };
      await expect(attempt({ logger: silentLogger })).rejects.toThrow(/secret/);
      await expect(attempt({ secret: undefined, logger: silentLogger })).rejects.toThrow(/allowUnsigned/);
      await expect(attempt({ secret: 'not-a-whsec', logger: silentLogger })).rejects.toThrow(/whsec_/);
      await expect(attempt({ secret: generateWebhookSecret(), allowUnsigned: true, logger: silentLogger })).rejects.toThrow(/not both/);
    });

    test(
      'survives at least 1000 generated malformed requests: no 5xx, nothing stored for a rejection',
      async () => {
        const s = await setup({ endpoint: { maxBodyBytes: 4096 } });
        const summary = await runBadInputProperty({
          url: s.url,
          secret: s.secret,
          knownType: TYPE,
          maxBodyBytes: 4096,
          count: s.count,
          has: async (id) => (await s.store.list({ ids: [id], limit: 1 })).length > 0,
          numRuns: options.badInputRuns ?? 1000,
        });
        if (process.env['MESSAGEBOX_DEBUG']) console.log(summary);
        expect(summary.requests).toBeGreaterThanOrEqual(options.badInputRuns ?? 1000);
        expect(summary.rejected).toBeGreaterThan(summary.requests / 2);
        expect(summary.created).toBeGreaterThan(0);
        expect(Object.keys(summary.byStatus).every((status) => Number(status) < 500)).toBe(true);
        const after = await s.post();
        expect(after.response.status).toBe(200);
      },
      120_000,
    );

    test('batch: stores every message of a signed batch and answers one result per message, in order', async () => {
      const s = await setup();
      const ids = [s.nextId(), s.nextId(), s.nextId()];
      const items = ids.map((id, i) => item(id, { data: { n: i }, headers: { tenant: `t${i}` } }));
      const { response, json } = await s.postBatch(items);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(json).toEqual({ results: ids.map((id) => ({ id, status: 'created' })) });
      for (const [i, id] of ids.entries()) {
        expect(await s.store.get({ source: 'testkit', id })).toMatchObject({ id, type: TYPE, payload: { n: i }, headers: { tenant: `t${i}` } });
      }
      expect(await s.count()).toBe(3);
    });

    test('ordering: stores the key from the body or the messagebox-key header; a header that differs from the body is refused with 422', async () => {
      const s = await setup();
      const fromBody = await s.post({ body: validBody({ key: 'account 1' }), headers: { 'messagebox-key': 'account 1' } });
      expect(fromBody.response.status).toBe(200);
      expect(await s.store.get({ source: 'testkit', id: fromBody.id })).toMatchObject({ key: 'account 1' });
      const fromHeader = await s.post({ headers: { 'messagebox-key': 'account-2' } });
      expect(fromHeader.response.status).toBe(200);
      expect(await s.store.get({ source: 'testkit', id: fromHeader.id })).toMatchObject({ key: 'account-2' });
      const unkeyed = await s.post();
      expect((await s.store.get({ source: 'testkit', id: unkeyed.id }))?.key).toBeUndefined();
      await expectRejected(await s.post({ body: validBody({ key: 'a' }), headers: { 'messagebox-key': 'b' } }), 422, 'invalid_message');
      await expectRejected(await s.post({ body: validBody({ key: 'x'.repeat(256) }) }), 422, 'invalid_message');
      await expectRejected(await s.post({ body: validBody({ key: 7 }) }), 422, 'invalid_message');
      expect(await s.count()).toBe(3);
    });

    test('ordering: a batch stores each message with its own key', async () => {
      const s = await setup();
      const ids = [s.nextId(), s.nextId(), s.nextId()];
      const { response, json } = await s.postBatch([item(ids[0]!, { key: 'k1' }), item(ids[1]!, { key: 'k2' }), item(ids[2]!, { key: '' })]);
      expect(response.status).toBe(200);
      expect(json.results.map((r: { status: string }) => r.status)).toEqual(['created', 'created', 'rejected']);
      expect(await s.store.get({ source: 'testkit', id: ids[0]! })).toMatchObject({ key: 'k1' });
      expect(await s.store.get({ source: 'testkit', id: ids[1]! })).toMatchObject({ key: 'k2' });
      expect(await s.count()).toBe(2);
    });

    test('batch: answers duplicates inside a batch and across batches, storing each once', async () => {
      const s = await setup();
      const [a, b, c] = [s.nextId(), s.nextId(), s.nextId()];
      const first = await s.postBatch([item(a), item(b), item(a)]);
      expect(first.json).toEqual({ results: [{ id: a, status: 'created' }, { id: b, status: 'created' }, { id: a, status: 'duplicate' }] });
      const single = await s.post({ id: c });
      expect(single.response.status).toBe(200);
      const second = await s.postBatch([item(b), item(c), item(a, { source: 'elsewhere' })]);
      expect(second.json).toEqual({ results: [{ id: b, status: 'duplicate' }, { id: c, status: 'duplicate' }, { id: a, status: 'created' }] });
      const concurrent = await Promise.all([s.postBatch([item(a), item(b)]), s.postBatch([item(b), item(a)])]);
      for (const { json } of concurrent) expect(json.results.map((r: any) => r.status)).toEqual(['duplicate', 'duplicate']);
      expect(await s.count()).toBe(4);
    });

    test('batch: rejects invalid messages on their own and stores the valid ones', async () => {
      const s = await setup();
      const [ok1, bad, unknown, ok2] = [s.nextId(), s.nextId(), s.nextId(), s.nextId()];
      const { response, json } = await s.postBatch([
        item(ok1),
        item(bad, { timestamp: '2026-02-30T00:00:00Z' }),
        item(unknown, { type: 'nobody.handles.this' }),
        { ...item('unused'), id: 42 },
        item('has space'),
        'not an object',
        item(ok2),
      ]);
      expect(response.status).toBe(200);
      const results = json.results as any[];
      expect(results).toHaveLength(7);
      expect(results[0]).toEqual({ id: ok1, status: 'created' });
      expect(results[1]).toMatchObject({ id: bad, status: 'rejected', error: { code: 'invalid_message', status: 422 } });
      expect(results[1].error.message).toContain('is not a real date-time');
      expect(results[2]).toMatchObject({ id: unknown, status: 'rejected', error: { code: 'unknown_type', status: 422 } });
      expect(results[3]).toMatchObject({ id: null, status: 'rejected', error: { code: 'invalid_message', status: 422 } });
      expect(results[4]).toMatchObject({ id: 'has space', status: 'rejected', error: { code: 'invalid_message', status: 422 } });
      expect(results[5]).toMatchObject({ id: null, status: 'rejected', error: { code: 'invalid_message' } });
      expect(results[6]).toEqual({ id: ok2, status: 'created' });
      for (const r of results.filter((r) => r.status === 'rejected')) expect(r.error.message.length).toBeGreaterThan(0);
      expect(await s.count()).toBe(2);
      expect(await s.store.get({ source: 'testkit', id: bad })).toBeNull();
      expect(await s.store.get({ source: 'testkit', id: unknown })).toBeNull();
    });

    test('batch: rejects a tampered body or a signature for another id, storing nothing', async () => {
      const s = await setup();
      const items = [item(s.nextId()), item(s.nextId())];
      await expectRejected(await s.postBatch(items, { tamper: (body) => body.replace('"amount":1', '"amount":2') }), 401, 'invalid_signature');
      await expectRejected(await s.postBatch(items, { secret: generateWebhookSecret() }), 401, 'invalid_signature');
      const body = JSON.stringify({ messages: items });
      const signed = signWithReference({ secret: s.secret, id: 'batch_one', body, contentType: BATCH_CONTENT_TYPE });
      const otherId = await fetch(s.url, { method: 'POST', headers: { ...signed.headers, 'webhook-id': 'batch_two' }, body });
      await expectRejected({ response: otherId, json: await otherId.json() }, 401, 'invalid_signature');
      const { ['webhook-signature']: _, ...unsigned } = signed.headers;
      const missing = await fetch(s.url, { method: 'POST', headers: unsigned, body });
      await expectRejected({ response: missing, json: await missing.json() }, 401, 'missing_signature');
      expect(await s.count()).toBe(0);
      expect((await s.postBatch(items)).response.status).toBe(200);
      expect(await s.count()).toBe(2);
    });

    test('batch: enforces maxMessages and maxBytes with 413, storing nothing', async () => {
      const s = await setup({ endpoint: { maxBodyBytes: 1024, batch: { maxMessages: 3, maxBytes: 8 * 1024 } } });
      await expectRejected(await s.postBatch([1, 2, 3, 4].map(() => item(s.nextId()))), 413, 'too_many_messages');
      const big = [item(s.nextId(), { data: { filler: 'x'.repeat(9 * 1024) } })];
      await expectRejected(await s.postBatch(big), 413, 'payload_too_large');
      expect(await s.count()).toBe(0);
      // A batch larger than maxBodyBytes (one message's limit) but within batch.maxBytes is accepted;
      // a message in it that is larger than maxBodyBytes on its own is refused as it would be alone.
      const fits = [600, 1500, 600].map((n) => item(s.nextId(), { data: { filler: 'y'.repeat(n) } }));
      const { response, json } = await s.postBatch(fits);
      expect(response.status).toBe(200);
      expect(json.results.map((r: any) => r.status)).toEqual(['created', 'rejected', 'created']);
      expect(json.results[1]).toMatchObject({ id: fits[1]!['id'], error: { code: 'payload_too_large', status: 413 } });
      expect(await s.count()).toBe(2);
      expect(await s.store.get({ source: 'testkit', id: fits[1]!['id'] as string })).toBeNull();
    });

    test('batch: rejects a body that is not a batch with 422 invalid_batch', async () => {
      const s = await setup();
      for (const body of ['[]', '{}', '{"messages":[]}', '{"messages":{}}', 'null', '"x"', JSON.stringify(item(s.nextId()))]) {
        await expectRejected(await s.postBatch([], { body }), 422, 'invalid_batch');
      }
      await expectRejected(await s.postBatch([], { body: '{"messages":[' }), 400, 'malformed_json');
      expect(await s.count()).toBe(0);
    });

    test('batch: answers 503 for the whole batch when the store fails', async () => {
      const s = await setup({ failingStore: true });
      const result = await s.postBatch([item(s.nextId()), item(s.nextId(), { type: 'nobody.handles.this' }), item(s.nextId())]);
      await expectRejected(result, 503, 'store_unavailable');
      expect(result.json.results).toBeUndefined();
      expect(await s.count()).toBe(0);
    });

    test('batch: inline mode answers a failing handler as a retryable rejection of that message', async () => {
      const s = await setup({
        inbox: { mode: 'inline' },
        handler: (message) => ((message.payload as { fail?: boolean }).fail ? Promise.reject(new Error('ledger down')) : undefined),
      });
      const [ok, failing] = [s.nextId(), s.nextId()];
      const { response, json } = await s.postBatch([item(ok), item(failing, { data: { fail: true } })]);
      expect(response.status).toBe(200);
      expect(json.results[0]).toEqual({ id: ok, status: 'created' });
      expect(json.results[1]).toMatchObject({ id: failing, status: 'rejected', error: { code: 'handler_failed' } });
      expect(json.results[1].error.status).toBeGreaterThanOrEqual(500);
      expect((await s.store.get({ source: 'testkit', id: ok }))?.status).toBe('processed');
      expect(await s.store.get({ source: 'testkit', id: failing })).toBeNull();
    });

    /** A handler that waits until `open()`; `entered` counts the runs that began. */
    const gatedHandler = () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const state = { entered: 0, open: () => open(), handler: (async () => void (state.entered++, await gate)) as InboxHandler<any> };
      return state;
    };
    /** Polls `fn` until it returns a value (a generous bound, no fixed sleep). */
    const eventually = async <T>(fn: () => Promise<T | undefined>, what: string): Promise<T> => {
      for (let i = 0; i < 1_200; i++) {
        const value = await fn();
        if (value !== undefined) return value;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`timed out waiting for ${what}`);
    };

    test('shedLoad: over maxBacklog answers 503 overloaded with Retry-After, single and batch, storing nothing; accepts again once the backlog drops', async () => {
      // Messages of a type without a handler (accepted) stay received: a backlog that does not drain until a handler comes.
      const waiting = 'no.handler.yet';
      const s = await setup({ inbox: { unknownTypes: 'accept' }, endpoint: { shedLoad: { maxBacklog: 2, retryAfterSeconds: 3, backlogCheckMs: 0 } } });
      const shed: unknown[] = [];
      s.inbox.events.on('shed', (event) => void shed.push(event));
      // The backlog is read in the background (never one count per request): it takes a reading or two for the refusals to start.
      const accepted: string[] = [];
      const refusal = await eventually(async () => {
        const result = await s.post({ body: validBody({ type: waiting }) });
        if (result.response.status === 200) return void accepted.push(result.id);
        return result;
      }, 'a refusal');
      expect(accepted.length).toBeGreaterThanOrEqual(3);
      await expectRejected(refusal, 503, 'overloaded');
      expect(refusal.response.headers.get('retry-after')).toBe('3');
      expect(refusal.json.error.message).toMatch(/busy.*maxBacklog 2.*retry after 3 s/);
      expect(await s.store.get({ source: 'testkit', id: refusal.id })).toBeNull();
      const batch = await s.postBatch([item(s.nextId()), item(s.nextId())]);
      await expectRejected(batch, 503, 'overloaded');
      expect(batch.response.headers.get('retry-after')).toBe('3');
      expect(await s.count()).toBe(accepted.length);
      expect(shed).toContainEqual({ reason: 'backlog', value: expect.any(Number), limit: 2, batch: true, retryAfterSeconds: 3 });
      expect(shed.length).toBeGreaterThanOrEqual(2);

      s.inbox.on(waiting, () => {});
      await s.inbox.processDue();
      expect((await s.store.stats()).received).toBe(0);
      const after = await eventually(async () => {
        const result = await s.post();
        return result.response.status === 200 ? result : undefined;
      }, 'acceptance once the backlog drained');
      expect(await s.store.get({ source: 'testkit', id: after.id })).not.toBeNull();
      expect((await s.postBatch([item(s.nextId())])).response.status).toBe(200);
    });

    test('shedLoad: over maxInFlightReceives answers 429 when asked to, storing nothing; bad shedLoad options are refused', async () => {
      const gated = gatedHandler();
      const s = await setup({ inbox: { mode: 'inline' }, handler: gated.handler, endpoint: { shedLoad: { maxInFlightReceives: 1, status: 429, retryAfterSeconds: 1 } } });
      const first = s.post();
      await eventually(async () => (gated.entered > 0 ? true : undefined), 'the first handler to start');
      const refused = await s.post();
      await expectRejected(refused, 429, 'overloaded');
      expect(refused.response.headers.get('retry-after')).toBe('1');
      expect(refused.json.error.message).toMatch(/1 receives in flight, maxInFlightReceives 1/);
      gated.open();
      expect((await first).response.status).toBe(200);
      expect(await s.store.get({ source: 'testkit', id: refused.id })).toBeNull();
      expect((await s.post()).response.status).toBe(200);
      expect(await s.count()).toBe(2);

      const inbox = createInbox({ store: createMemoryInboxStore(), logger: silentLogger });
      const attempt = async (shedLoad: unknown) => {
        const server = await harness.start(inbox, { secret: generateWebhookSecret(), logger: silentLogger, shedLoad: shedLoad as never });
        await server.close();
      };
      await expect(attempt({})).rejects.toThrow(/shedLoad needs maxBacklog or maxInFlightReceives/);
      await expect(attempt({ maxBacklog: -1 })).rejects.toThrow(/shedLoad.maxBacklog must be an integer >= 0, got -1/);
      await expect(attempt({ maxInFlightReceives: 0 })).rejects.toThrow(/shedLoad.maxInFlightReceives must be a positive integer/);
      await expect(attempt({ maxBacklog: 10, retryAfterSeconds: 0.5 })).rejects.toThrow(/retryAfterSeconds must be a whole number of seconds >= 1/);
      await expect(attempt({ maxBacklog: 10, status: 500 })).rejects.toThrow(/status must be 503 or 429/);
      await expect(attempt('on')).rejects.toThrow(/shedLoad must be an object/);
      const bare = { accepts: () => true, receive: async () => ({ status: 'created' as const }) };
      await expect((async () => (await harness.start(bare, { secret: generateWebhookSecret(), logger: silentLogger, shedLoad: { maxBacklog: 5 } })).close())()).rejects.toThrow(/maxBacklog needs an inbox with a store/);
    });

    test('batch: refused with 415 when the endpoint turns batches off', async () => {
      const s = await setup({ endpoint: { batch: false } });
      await expectRejected(await s.postBatch([item(s.nextId())]), 415, 'unsupported_media_type');
      expect(await s.count()).toBe(0);
      expect((await s.post()).response.status).toBe(200);
    });

    test(
      'batch: survives 200 generated batches of valid and malformed messages: one result each, exactly the created ones stored',
      async () => {
        const s = await setup();
        const stored = new Set<string>();
        const entry = fc.record({
          id: fc.oneof({ weight: 5, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.integer() }),
          mutate: fc.constantFrom(undefined, undefined, undefined, 'type', 'timestamp', 'data', 'source', 'headers'),
          value: fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 10 }), fc.constant(undefined), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 })),
          repeat: fc.boolean(),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), async (entries) => {
            const items = entries.map((e, i) => {
              const base: Record<string, unknown> = item(typeof e.id === 'string' ? e.id : 'x', { data: { i } });
              base['id'] = e.repeat && i > 0 ? entries[0]!.id : e.id;
              if (e.mutate) base[e.mutate] = e.value;
              return base;
            });
            const before = await s.count();
            const { response, json } = await s.postBatch(items);
            const context = JSON.stringify({ items, status: response.status, json }).slice(0, 600);
            expect(response.status, context).toBe(200);
            expect(json.results, context).toHaveLength(items.length);
            let created = 0;
            for (const [i, result] of (json.results as any[]).entries()) {
              expect(['created', 'duplicate', 'rejected'], context).toContain(result.status);
              if (result.status === 'rejected') {
                expect(result.error.status, context).toBeLessThan(500);
                expect(typeof result.error.code, context).toBe('string');
                expect(result.error.message, context).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
                continue;
              }
              expect(result.id, context).toBe(items[i]!['id']);
              if (result.status === 'created') {
                created++;
                expect(stored.has(`${items[i]!['source']}\u0000${result.id}`), context).toBe(false);
                stored.add(`${items[i]!['source']}\u0000${result.id}`);
              }
            }
            expect(await s.count(), context).toBe(before + created);
          }),
          { numRuns: 200 },
        );
        expect(await s.count()).toBe(stored.size);
      },
      120_000,
    );
  });
}

function validBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: TYPE, timestamp: new Date().toISOString(), data: { amount: 1 }, source: 'testkit', ...overrides });
}

function nest(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function failing<Tx>(store: InboxStore<Tx>): InboxStore<Tx> {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'transaction' || property === 'receive' || property === 'receiveMany' || property === 'receiveManyCommitted') {
        return () => Promise.reject(new Error('database is down'));
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
