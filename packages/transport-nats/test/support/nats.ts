import { randomBytes } from 'node:crypto';
import { requireDatabase, startHoldingProxy, type HoldingProxy } from '@messagebox/testkit';
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
 * testkit's holding proxy on loopback in front of the NATS server, as a
 * NATS URL: `drop()` cuts every connection through it (a network-side drop;
 * the server keeps running), `hold()` keeps what the server sends (PubAcks)
 * until `release()`, and a `drop()` while holding loses it.
 */
export interface NatsProxy extends Omit<HoldingProxy, 'address'> {
  url: string;
}

export async function startNatsProxy(): Promise<NatsProxy> {
  const target = new URL(NATS_URL);
  const proxy = await startHoldingProxy({ host: target.hostname, port: Number(target.port || 4222) });
  return {
    url: `nats://127.0.0.1:${proxy.address.port}`,
    hold: () => proxy.hold(),
    release: () => proxy.release(),
    drop: () => proxy.drop(),
    close: () => proxy.close(),
  };
}
