import { createAdaptorServer } from '@hono/node-server';
import { listenOnLoopback, type RunningServer } from '@messagebox/testkit';
import { createInbox, createOperations, createOutbox, type Inbox, type Outbox } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { createHttpTransport } from '@messagebox/transport-http';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { createDashboard, type DashboardOptions } from '../../src/index.js';
import type { TestStore } from './stores.js';

export const TOKEN = 'Bearer operator-secret';
const SECRET = 'whsec_' + Buffer.from('dashboard-test-secret-0123456789').toString('base64');

/** Serves `fetch` on a loopback port; resolves with its base URL and a close function. */
export function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<RunningServer> {
  return listenOnLoopback(createAdaptorServer({ fetch }) as Server);
}

/**
 * A service on a real store: an outbox sending over real HTTP to an inbox
 * endpoint on the same store (so a replayed message really is delivered),
 * and the dashboard mounted under `/ops` of a Hono app.
 */
export async function startWorld(store: TestStore, dashboard: Partial<DashboardOptions> = {}) {
  const inbox: Inbox<unknown> = createInbox({ store: store.inbox })
    .on('payment.created', async () => {})
    .on('invoice.sent', async () => {})
    .on('order.placed', async () => {});
  const receiver = new Hono();
  receiver.all('/inbox', honoInbox(inbox, { secret: SECRET }));
  const receiving = await listen(receiver.fetch);
  const transport = createHttpTransport({ url: `${receiving.url}/inbox`, secret: SECRET, timeoutMs: 5_000 });
  const outbox: Outbox<unknown> = createOutbox({ store: store.outbox, source: 'vault' }).configure('payment.created', { transport }).configure('invoice.sent', { transport });
  const operations = createOperations({ outbox, inbox });
  const app = new Hono();
  app.route('/ops', createDashboard({ operations, authorize: (request) => request.headers.get('authorization') === TOKEN, pollMs: 1_000, ...dashboard }));
  const serving = await listen(app.fetch);
  return {
    outbox,
    inbox,
    operations,
    url: `${serving.url}/ops/`,
    origin: serving.url,
    async close() {
      await serving.close();
      await outbox.close();
      await inbox.stop();
      await receiving.close();
    },
  };
}
