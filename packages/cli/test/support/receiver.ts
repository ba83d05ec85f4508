import { createServer as createNetServer } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createInbox, createMemoryInboxStore, generateWebhookSecret, silentLogger, type Inbox, type Message } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { Hono } from 'hono';
import type { MemoryTransaction } from '@messagebox/core';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A real messagebox receiver (memory inbox behind the Hono endpoint) on a fixed loopback port, started on demand. */
export interface Receiver {
  url: string;
  secret: string;
  inbox: Inbox<MemoryTransaction>;
  /** Every message stored, in arrival order (duplicates are not stored twice). */
  received: Message[];
  /** Requests that arrived (before the delay). */
  arrivals: number;
  /** Requests answered, duplicates included. */
  requests: number;
  /** Added before each answer. */
  delayMs: number;
  /** When set, requests arriving from then on wait for it before the delay (a gate a test opens). */
  hold: Promise<void> | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createReceiver(options: { types?: string[] } = {}): Promise<Receiver> {
  const port = await freePort();
  const secret = generateWebhookSecret();
  const inbox = createInbox({ store: createMemoryInboxStore(), logger: silentLogger, retention: false });
  for (const type of options.types ?? ['order.created']) inbox.on(type, async () => {});
  let server: ServerType | undefined;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/inbox`,
    secret,
    inbox,
    received: [],
    arrivals: 0,
    requests: 0,
    delayMs: 0,
    hold: undefined,
    async start() {
      const app = new Hono();
      const endpoint = honoInbox(inbox, { secret, logger: silentLogger });
      app.all('/inbox', async (c) => {
        receiver.arrivals++;
        if (receiver.hold) await receiver.hold;
        if (receiver.delayMs) await new Promise((r) => setTimeout(r, receiver.delayMs));
        receiver.requests++;
        return endpoint(c);
      });
      await new Promise<void>((resolve) => {
        server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve());
      });
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  inbox.events.on('received', ({ message }) => receiver.received.push(message));
  return receiver;
}
