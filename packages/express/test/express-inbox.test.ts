import { createInbox, createMemoryInboxStore, generateWebhookSecret, silentLogger, type Logger } from '@messagebox/core';
import { listenOnLoopback, rawRequest, signWithReference, type RunningServer } from '@messagebox/testkit';
import express from 'express';
import express4 from 'express4';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { expressInbox } from '../src/index.js';

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

const body = () => JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: { n: 1 }, source: 'shop' });

async function serve(app: Parameters<typeof createServer>[1]) {
  const server = await listenOnLoopback(createServer(app));
  servers.push(server);
  return server;
}

describe('expressInbox mounting', () => {
  it.each([
    ['Express 5', express],
    ['Express 4', express4],
  ])('%s, mounted after express.json(): answers 500 body_already_read, logs how to mount it, stores nothing', async (_name, framework) => {
    const { store, inbox } = setup();
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (_f, m) => void errors.push(m) };
    const app = framework();
    app.use(framework.json());
    app.all('/inbox', expressInbox(inbox, { secret, logger }));
    const server = await serve(app);
    const signed = signWithReference({ secret, id: 'msg_1', body: body() });
    const response = await fetch(`${server.url}/inbox`, { method: 'POST', headers: signed.headers, body: signed.body });
    expect(response.status).toBe(500);
    const json = await response.json();
    expect(json.error.code).toBe('body_already_read');
    expect(json.error.message).toContain('express.json()');
    expect(json.error.message).toMatch(/before any body parser, or on a router of its own/);
    expect(errors).toHaveLength(1);
    expect(await store.get({ source: 'shop', id: 'msg_1' })).toBeNull();
  });

  it.each([
    ['Express 5', express],
    ['Express 4', express4],
  ])('%s, after express.raw(): verifies the kept Buffer and stores', async (_name, framework) => {
    const { store, inbox } = setup();
    const app = framework();
    app.use(framework.raw({ type: 'application/json' }));
    app.all('/inbox', expressInbox(inbox, { secret, logger: silentLogger }));
    const server = await serve(app);
    const signed = signWithReference({ secret, id: 'msg_raw', body: body() });
    const response = await fetch(`${server.url}/inbox`, { method: 'POST', headers: signed.headers, body: signed.body });
    expect(response.status).toBe(200);
    expect(await store.get({ source: 'shop', id: 'msg_raw' })).not.toBeNull();
    const text = await fetch(`${server.url}/inbox`, { method: 'POST', headers: { ...signed.headers, 'content-type': 'text/plain' }, body: signed.body });
    expect(text.status).toBe(415);
    const tampered = await fetch(`${server.url}/inbox`, { method: 'POST', headers: signed.headers, body: `${signed.body} ` });
    expect(tampered.status).toBe(401);
  });

  it('works on a router of its own and on a plain node:http server', async () => {
    const { store, inbox } = setup();
    const router = express.Router();
    router.all('/', expressInbox(inbox, { secret, logger: silentLogger }));
    const app = express();
    app.use('/hooks/inbox', router);
    app.use(express.json());
    const viaRouter = await serve(app);
    const handler = expressInbox(inbox, { secret, logger: silentLogger });
    const plain = await serve((req, res) => handler(req, res));
    for (const [url, id] of [[`${viaRouter.url}/hooks/inbox`, 'msg_router'], [`${plain.url}/anything`, 'msg_plain']] as const) {
      const signed = signWithReference({ secret, id, body: body() });
      const response = await fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
      expect(response.status).toBe(200);
      expect(await store.get({ source: 'shop', id })).not.toBeNull();
    }
  });

  it('after a rejection that never reads the body (413 declared, 415, 405), the kept-alive connection still serves the next request', async () => {
    const { store, inbox } = setup();
    const app = express();
    app.all('/inbox', expressInbox(inbox, { secret, logger: silentLogger, maxBodyBytes: 1024 }));
    const server = await serve(app);
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (headers: Record<string, string>, payload: string | Buffer, method = 'POST') =>
      new Promise<number>((resolve) => {
        const req = request(`${server.url}/inbox`, { method, headers, agent });
        req.on('response', (res) => res.resume().on('end', () => resolve(res.statusCode!)));
        req.on('error', () => resolve(0));
        req.end(payload);
      });
    try {
      const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
      const first = signWithReference({ secret, id: 'msg_big', body: body() });
      const rejections: Array<[number, Record<string, string>, string]> = [
        [413, { ...first.headers, 'content-length': String(big.length) }, 'POST'],
        [415, { ...first.headers, 'content-type': 'text/plain', 'content-length': String(big.length) }, 'POST'],
        [405, { ...first.headers, 'content-length': String(big.length) }, 'PUT'],
      ];
      for (const [status, headers, method] of rejections) {
        expect(await send(headers, big, method)).toBe(status);
        const next = signWithReference({ secret, id: `msg_after_${status}`, body: body() });
        // Served at once, not after the unread 2 MiB body times out: a generous bound, not a speed test.
        const answered = await Promise.race([send(next.headers, next.body), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000).unref())]);
        expect(answered).toBe(200);
        expect(await store.get({ source: 'shop', id: `msg_after_${status}` })).not.toBeNull();
      }
      expect(await store.get({ source: 'shop', id: 'msg_big' })).toBeNull();
    } finally {
      agent.destroy();
    }
  });

  it('survives a client that breaks off mid-body, and keeps serving', async () => {
    const { store, inbox } = setup();
    const app = express();
    app.all('/inbox', expressInbox(inbox, { secret, logger: silentLogger }));
    const server = await serve(app);
    const signed = signWithReference({ secret, id: 'msg_cut', body: body() });
    const { request } = await import('node:http');
    await new Promise<void>((resolve) => {
      const req = request(`${server.url}/inbox`, { method: 'POST', headers: { ...signed.headers, 'content-length': '5000' } });
      req.on('error', () => resolve());
      req.write(signed.body.slice(0, 20), () => setTimeout(() => req.destroy(), 20));
      req.on('close', () => resolve());
    });
    const next = signWithReference({ secret, id: 'msg_after', body: body() });
    const response = await rawRequest(`${server.url}/inbox`, { headers: next.headers, body: next.body });
    expect(response.status).toBe(200);
    expect(await store.get({ source: 'shop', id: 'msg_cut' })).toBeNull();
    expect(await store.get({ source: 'shop', id: 'msg_after' })).not.toBeNull();
  });
});
