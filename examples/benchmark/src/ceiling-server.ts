// The ceiling's server: the same server stack as the inbox (Hono on
// @hono/node-server, the same database settings), doing one INSERT per POST in
// its own transaction and answering 200 after commit. No signature check, no
// parsing beyond reading the body and the webhook-id header.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { childSetup, databaseFromEnv, measureWindow, on, tell } from './child-side.js';
import { connect } from './databases.js';
import { StatementCounter } from './statement-counter.js';

childSetup();
const ref = databaseFromEnv('MB_RECEIVER');
const counter = new StatementCounter();
const db = connect(ref, counter);
let stored = 0;
let window: ReturnType<typeof measureWindow> | undefined;

const app = new Hono();
app.post('/inbox', async (c) => {
  const body = await c.req.text();
  const id = c.req.header('webhook-id') ?? '';
  await db.transaction().execute((tx) => tx.insertInto('bench_ceiling').values({ id, body }).execute());
  stored++;
  return c.json({ status: 'created' });
});
const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
});

on('measure', () => {
  stored = 0;
  window = measureWindow(counter, {});
  tell({ kind: 'measuring' });
});
on('stop', async () => {
  const usage = window?.end();
  server.close();
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  await db.destroy();
  tell({ kind: 'final', usage, stored });
  process.disconnect?.();
  process.exit(0);
});
tell({ kind: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox` });
