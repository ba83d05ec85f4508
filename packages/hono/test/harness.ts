import { createAdaptorServer } from '@hono/node-server';
import { listenOnLoopback, type ServerAdapterHarness } from '@messagebox/testkit';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { honoInbox } from '../src/index.js';

export const honoHarness: ServerAdapterHarness = {
  name: 'hono',
  async start(inbox, options) {
    const app = new Hono().all('/inbox', honoInbox(inbox, options));
    return listenOnLoopback(createAdaptorServer({ fetch: app.fetch }) as Server);
  },
};
