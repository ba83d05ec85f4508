import {
  BATCH_CONTENT_TYPE,
  createInbox,
  createMemoryInboxStore,
  defineMessages,
  generateWebhookSecret,
  silentLogger,
  type InboxStore,
  type Message,
  type StandardSchemaV1,
} from '@messagebox/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerAdapterHarness } from './server-adapter-suite.js';
import { signWithReference } from './signed-request.js';

/** Options of {@link runSchemaValidationSuite}. */
export interface SchemaValidationSuiteOptions {
  /** Names the library in the test titles, e.g. `zod`. */
  library: string;
  /**
   * A Standard Schema (zod, valibot, arktype…) for `{ id: string; amount: number }`
   * that refuses an `amount` that is not a positive number.
   */
  schema: StandardSchemaV1<unknown, { id: string; amount: number }>;
  /** A fresh inbox store per test. Default: core's in-memory store. */
  createStore?: () => Promise<{ store: InboxStore<any>; close?: () => Promise<void> }>;
}

const TYPE = 'order.created';

/**
 * Inbox validation over real HTTP: an inbox whose catalog has `schema` for
 * `order.created` answers an invalid payload 422 `invalid_payload` with the
 * schema's issues and stores nothing, alone, in a batch, and with the schema
 * made asynchronous; a valid one is stored and handled with the schema's output.
 *
 * @example
 * runSchemaValidationSuite(honoHarness, { library: 'zod', schema: z.object({ id: z.string(), amount: z.number().positive() }) });
 */
export function runSchemaValidationSuite(harness: ServerAdapterHarness, options: SchemaValidationSuiteOptions): void {
  describe(`inbox schema validation over HTTP: ${harness.name} + ${options.library}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setup(schema: StandardSchemaV1 = options.schema) {
      const { store, close } = options.createStore ? await options.createStore() : { store: createMemoryInboxStore(), close: undefined };
      if (close) cleanups.push(close);
      const handled: Message<unknown>[] = [];
      const catalog = defineMessages({ [TYPE]: schema });
      const inbox = createInbox({ store, logger: silentLogger, catalog }).on(TYPE, (message) => void handled.push(message));
      const secret = generateWebhookSecret();
      const server = await harness.start(inbox, { secret, logger: silentLogger });
      cleanups.push(async () => {
        await server.close();
        await inbox.stop();
      });
      let n = 0;
      const nextId = () => `msg_schema_${Date.now().toString(36)}_${n++}`;
      const post = async (data: unknown) => {
        const id = nextId();
        const body = JSON.stringify({ type: TYPE, timestamp: new Date().toISOString(), data, source: 'shop' });
        const signed = signWithReference({ secret, id, body });
        const response = await fetch(`${server.url}/inbox`, { method: 'POST', headers: signed.headers, body });
        return { id, status: response.status, json: (await response.json()) as any };
      };
      const postBatch = async (items: Array<{ id: string; data: unknown }>) => {
        const body = JSON.stringify({ messages: items.map(({ id, data }) => ({ id, type: TYPE, timestamp: new Date().toISOString(), data, source: 'shop' })) });
        const signed = signWithReference({ secret, id: `batch_${nextId()}`, body, contentType: BATCH_CONTENT_TYPE });
        const response = await fetch(`${server.url}/inbox`, { method: 'POST', headers: signed.headers, body });
        return { status: response.status, json: (await response.json()) as any };
      };
      const stored = async () => (await store.list()).length;
      return { inbox, store, handled, post, postBatch, nextId, stored };
    }

    it('stores and handles a valid payload', async () => {
      const s = await setup();
      const { id, status, json } = await s.post({ id: 'o-1', amount: 12 });
      expect({ status, json }).toEqual({ status: 200, json: { status: 'created', id } });
      await s.inbox.processDue();
      await s.inbox.idle();
      expect(s.handled.map((m) => [m.id, m.payload])).toEqual([[id, { id: 'o-1', amount: 12 }]]);
    });

    it('answers an invalid payload 422 invalid_payload with the issues, storing nothing', async () => {
      const s = await setup();
      const { status, json } = await s.post({ id: 'o-1', amount: -3 });
      expect(status).toBe(422);
      expect(json.error.code).toBe('invalid_payload');
      expect(json.error.message).toContain(TYPE);
      expect(json.error.issues.length).toBeGreaterThan(0);
      expect(json.error.issues[0].path).toEqual(['amount']);
      expect(typeof json.error.issues[0].message).toBe('string');
      const missing = await s.post({ amount: 'x' });
      expect(missing.status).toBe(422);
      expect(missing.json.error.issues.map((issue: { path: unknown[] }) => issue.path[0]).sort()).toEqual(['amount', 'id']);
      expect(await s.stored()).toBe(0);
      await s.inbox.processDue();
      expect(s.handled).toEqual([]);
    });

    it('in a batch, rejects the invalid message with its issues and stores only the valid one', async () => {
      const s = await setup();
      const [good, bad] = [s.nextId(), s.nextId()];
      const { status, json } = await s.postBatch([
        { id: good, data: { id: 'o-1', amount: 1 } },
        { id: bad, data: { id: 'o-2', amount: 0 } },
      ]);
      expect(status).toBe(200);
      expect(json.results[0]).toEqual({ id: good, status: 'created' });
      expect(json.results[1]).toMatchObject({ id: bad, status: 'rejected', error: { code: 'invalid_payload', status: 422 } });
      expect(json.results[1].error.issues[0].path).toEqual(['amount']);
      expect((await s.store.list()).map((row) => row.id)).toEqual([good]);
    });

    it('awaits an asynchronous schema', async () => {
      const standard = options.schema['~standard'];
      const asynchronous: StandardSchemaV1<unknown, { id: string; amount: number }> = {
        '~standard': { ...standard, validate: async (value) => { await new Promise((resolve) => setImmediate(resolve)); return standard.validate(value); } },
      };
      const s = await setup(asynchronous);
      expect((await s.post({ id: 'o-1', amount: -1 })).status).toBe(422);
      expect(await s.stored()).toBe(0);
      expect((await s.post({ id: 'o-2', amount: 2 })).status).toBe(200);
      expect(await s.stored()).toBe(1);
    });
  });
}
