import { createAdaptorServer } from '@hono/node-server';
import {
  createInbox,
  createMemoryInboxStore,
  createMessage,
  generateWebhookSecret,
  silentLogger,
  TransportError,
  type InboxStore,
} from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { listenOnLoopback, type RunningServer } from '@messagebox/testkit';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../src/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function receiver(options: { secret?: string; store?: InboxStore<any> } = {}) {
  const store = options.store ?? createMemoryInboxStore();
  const secret = options.secret ?? generateWebhookSecret();
  const inbox = createInbox({ store, logger: silentLogger }).on('order.created', () => {});
  const app = new Hono().all('/inbox', honoInbox(inbox, { secret, logger: silentLogger }));
  const server: RunningServer = await listenOnLoopback(createAdaptorServer({ fetch: app.fetch }) as Server);
  cleanups.push(async () => {
    await server.close();
    await inbox.stop();
  });
  return { store, secret, url: `${server.url}/inbox` };
}

function transportTo(url: string, secret?: string) {
  const transport = createHttpTransport({ url, secret });
  cleanups.push(() => transport.close!());
  return transport;
}

const message = (type = 'order.created') =>
  createMessage({ type, source: 'shop', payload: { total: 3, items: ['a'] }, headers: { traceparent: 'tp-1' } }, { now: new Date('2030-03-03T03:03:03.333Z') });

describe('HTTP transport → inbox endpoint', () => {
  it('delivers a message that the receiver stores exactly as sent; a resend is acknowledged and stored once', async () => {
    const r = await receiver();
    const transport = transportTo(r.url, r.secret);
    const m = message();
    await transport.send(m, { attempt: 1 });
    await transport.send(m, { attempt: 2 });
    const row = await r.store.get(m);
    expect(row).toMatchObject({ id: m.id, type: m.type, source: 'shop', payload: m.payload, headers: { traceparent: 'tp-1' } });
    expect(row!.createdAt.toISOString()).toBe('2030-03-03T03:03:03.333Z');
    expect((await r.store.stats()).received + (await r.store.stats()).processed).toBe(1);
  });

  it('a wrong secret is a permanent failure (401); an unknown type too (422)', async () => {
    const r = await receiver();
    const wrong = await transportTo(r.url, generateWebhookSecret()).send(message(), { attempt: 1 }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(TransportError);
    expect(wrong).toMatchObject({ status: 401, retryable: false });
    const unknown = await transportTo(r.url, r.secret).send(message('nobody.handles'), { attempt: 1 }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 422, retryable: false });
  });

  it('a receiver whose store fails answers 503: a retryable failure', async () => {
    const base = createMemoryInboxStore();
    const failing = new Proxy(base, {
      get: (target, property) =>
        property === 'transaction' ? () => Promise.reject(new Error('disk full')) : Reflect.get(target, property, target),
    });
    const r = await receiver({ store: failing });
    const error = await transportTo(r.url, r.secret).send(message(), { attempt: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, retryable: true });
  });
});
