import { randomBytes } from 'node:crypto';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { requireDatabase } from '@messagebox/testkit';
import { jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export const NATS_URL = process.env.MB_NATS_URL ?? 'nats://127.0.0.1:4222';

/** True when NATS with JetStream answers; in CI an unreachable server is a failure. */
export function probeNats(): Promise<boolean> {
  return requireDatabase(`NATS JetStream at ${NATS_URL}`, async () => {
    const nc = await connect({ servers: NATS_URL, timeout: 5_000 });
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
    } finally {
      await nc.close();
    }
  });
}

/** A stream of its own for one test (`subjects`: `<prefix>.>`), deleted by `drop()`. */
export interface TestStream {
  nc: NatsConnection;
  jsm: JetStreamManager;
  name: string;
  prefix: string;
  count(): Promise<number>;
  drop(): Promise<void>;
}

export function uniqueName(): string {
  return `mbtest_${randomBytes(5).toString('hex')}`;
}

export async function createTestStream(config: Partial<StreamConfig> = {}): Promise<TestStream> {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const name = uniqueName();
  const prefix = name;
  await jsm.streams.add({ name, subjects: [`${prefix}.>`], ...config });
  return {
    nc,
    jsm,
    name,
    prefix,
    count: async () => (await jsm.streams.info(name)).state.messages,
    async drop() {
      await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
    },
  };
}

/** Waits for `condition` to hold, polling, up to `timeoutMs` (generous: the machine is loaded). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A TCP proxy on loopback in front of the NATS server: `drop()` destroys
 * every connection through it (a network-side drop; the server keeps
 * running), `swallowReplies` discards what the server sends while it is
 * true (PubAcks lost on the way back).
 */
export interface NatsProxy {
  url: string;
  swallowReplies: boolean;
  drop(): void;
  close(): Promise<void>;
}

export async function startNatsProxy(): Promise<NatsProxy> {
  const target = new URL(NATS_URL);
  const sockets = new Set<Socket>();
  const proxy: NatsProxy = {
    url: '',
    swallowReplies: false,
    drop() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    close: () => {
      proxy.drop();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 4222), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!proxy.swallowReplies) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  proxy.url = `nats://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return proxy;
}
