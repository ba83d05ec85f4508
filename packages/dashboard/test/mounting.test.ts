import { getRequestListener } from '@hono/node-server';
import { createMemoryInboxStore, createMemoryOutboxStore, createOperations } from '@messagebox/core';
import express from 'express';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../src/index.js';

const operations = createOperations({ outbox: createMemoryOutboxStore(), inbox: createMemoryInboxStore() });
const dashboard = createDashboard({ operations, authorize: (request) => request.headers.get('x-ops') === 'yes' });
const servers: Server[] = [];

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

describe('mounting the dashboard', () => {
  it('under a path of an Express app, through the Fetch handler', async () => {
    const app = express();
    app.use('/ops', getRequestListener(dashboard.fetch));
    app.get('/', (_req, res) => void res.send('the app'));
    const url = await serve(app);
    const page = await fetch(`${url}/ops/`, { headers: { 'x-ops': 'yes' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>messagebox dashboard</title>');
    const overview = await fetch(`${url}/ops/api/overview`, { headers: { 'x-ops': 'yes' } });
    expect(((await overview.json()) as { outbox: { waiting: number } }).outbox.waiting).toBe(0);
    expect((await fetch(`${url}/ops/api/overview`)).status).toBe(401);
    expect(await (await fetch(`${url}/`)).text()).toBe('the app');
  });

  it('on a plain Node server', async () => {
    const url = await serve(getRequestListener(dashboard.fetch) as RequestListener);
    expect((await fetch(`${url}/`, { headers: { 'x-ops': 'yes' } })).status).toBe(200);
    expect((await fetch(`${url}/api/session`, { headers: { 'x-ops': 'yes' } })).status).toBe(200);
    expect((await fetch(`${url}/api/nothing`, { headers: { 'x-ops': 'yes' } })).status).toBe(404);
  });
});
