import { createAdaptorServer } from '@hono/node-server';
import { createInbox, createMemoryInboxStore, generateWebhookSecret, silentLogger } from '@messagebox/core';
import { listenOnLoopback, signWithReference, type RunningServer } from '@messagebox/testkit';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { honoInbox } from '../src/index.js';

const secret = generateWebhookSecret();
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function setup() {
  const store = createMemoryInboxStore();
  const inbox = createInbox({ store, logger: silentLogger }).on('order.created', () => {});
  return { store, inbox };
}

async function serve(app: { fetch: (request: Request) => Response | Promise<Response> }) {
  const server = await listenOnLoopback(createAdaptorServer({ fetch: app.fetch }) as Server);
  servers.push(server);
  return server;
}

const signed = (id: string) =>
  signWithReference({ secret, id, body: JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: {}, source: 'shop' }) });

describe('honoInbox', () => {
  it('mounts on an app with its own Env and middleware; app.post leaves other methods to the app (404)', async () => {
    const { store, inbox } = setup();
    const seen: string[] = [];
    const app = new Hono<{ Variables: { requestId: string } }>();
    app.use('*', async (c, next) => {
      c.set('requestId', 'r1');
      seen.push(c.req.method);
      await next();
    });
    app.post('/inbox', honoInbox(inbox, { secret, logger: silentLogger }));
    const server = await serve(app);
    const request = signed('msg_env');
    const response = await fetch(`${server.url}/inbox`, { method: 'POST', headers: request.headers, body: request.body });
    expect(response.status).toBe(200);
    expect(await store.get({ source: 'shop', id: 'msg_env' })).not.toBeNull();
    expect((await fetch(`${server.url}/inbox`)).status).toBe(404);
    expect(seen).toEqual(['POST', 'GET']);
  });

  it('answers 500 body_already_read when a middleware parsed the body first', async () => {
    const { store, inbox } = setup();
    const app = new Hono();
    app.use('/inbox', async (c, next) => {
      await c.req.json();
      await next();
    });
    app.all('/inbox', honoInbox(inbox, { secret, logger: silentLogger }));
    const server = await serve(app);
    const request = signed('msg_parsed');
    const response = await fetch(`${server.url}/inbox`, { method: 'POST', headers: request.headers, body: request.body });
    expect(response.status).toBe(500);
    expect((await response.json()).error.code).toBe('body_already_read');
    expect(await store.get({ source: 'shop', id: 'msg_parsed' })).toBeNull();
  });

  it('on @hono/node-server, reads the body from Node\'s request without building the Fetch body', async () => {
    const { store, inbox } = setup();
    const after: Array<{ bodyUsed: boolean; incomingEnded: boolean }> = [];
    const app = new Hono<{ Bindings: { incoming: import('node:http').IncomingMessage } }>();
    app.use('/inbox', async (c, next) => {
      await next();
      after.push({ bodyUsed: c.req.raw.bodyUsed, incomingEnded: c.env.incoming.readableEnded });
    });
    app.all('/inbox', honoInbox(inbox, { secret, logger: silentLogger }));
    const server = await serve(app);
    const request = signed('msg_node');
    const response = await fetch(`${server.url}/inbox`, { method: 'POST', headers: request.headers, body: request.body });
    expect(response.status).toBe(200);
    expect(await store.get({ source: 'shop', id: 'msg_node' })).not.toBeNull();
    expect(after).toEqual([{ bodyUsed: false, incomingEnded: true }]);
  });

  it('works through app.request() without a server (Fetch all the way)', async () => {
    const { store, inbox } = setup();
    const app = new Hono().all('/inbox', honoInbox(inbox, { secret, logger: silentLogger }));
    const request = signed('msg_fetch');
    const response = await app.request('/inbox', { method: 'POST', headers: request.headers, body: request.body });
    expect(response.status).toBe(200);
    expect(await store.get({ source: 'shop', id: 'msg_fetch' })).not.toBeNull();
  });
});
