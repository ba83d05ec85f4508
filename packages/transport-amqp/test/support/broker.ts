import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { requireDatabase } from '@messagebox/testkit';
import { connect, type Channel, type ChannelModel } from 'amqplib';

const run = promisify(execFile);

/** The machine's RabbitMQ (see DESIGN.md); `AMQP_URL` overrides it. */
export const AMQP_URL = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/** True when RabbitMQ answers; under CI=true an unreachable broker fails the run. */
export function requireBroker(): Promise<boolean> {
  return requireDatabase(`RabbitMQ at ${AMQP_URL}`, async () => {
    const model = await connect(AMQP_URL, { timeout: 5_000 });
    await model.close();
  });
}

/** A name no other test (or run) uses. */
export function uniqueName(prefix: string): string {
  return `mbx-test.${prefix}.${randomUUID().slice(0, 8)}`;
}

/**
 * A side connection for declaring, inspecting and deleting what one test
 * uses; `cleanup()` deletes every queue and exchange declared through it.
 */
export async function openAdmin(): Promise<Admin> {
  const model = await connect(AMQP_URL);
  let channel = await model.createChannel();
  const queues = new Set<string>();
  const exchanges = new Set<string>();
  const fresh = async () => {
    channel = await model.createChannel();
    return channel;
  };
  return {
    get channel() {
      return channel;
    },
    async exchange(name, type = 'topic') {
      exchanges.add(name);
      await channel.assertExchange(name, type, { durable: true });
      return name;
    },
    async queue(name, bindTo, options = {}) {
      queues.add(name);
      await channel.assertQueue(name, { durable: true, ...options });
      if (bindTo) await channel.bindQueue(name, bindTo.exchange, bindTo.pattern ?? '#');
      return name;
    },
    async depth(queue) {
      return (await channel.checkQueue(queue)).messageCount;
    },
    async consumers(queue) {
      return (await channel.checkQueue(queue)).consumerCount;
    },
    async drain(queue) {
      const out = [];
      for (;;) {
        const m = await channel.get(queue, { noAck: true });
        if (m === false) return out;
        out.push(m);
      }
    },
    async cleanup() {
      const ch = await fresh();
      for (const q of queues) await ch.deleteQueue(q).catch(() => {});
      for (const e of exchanges) await (await fresh()).deleteExchange(e).catch(() => {});
      await model.close().catch(() => {});
    },
    model,
  };
}

export interface Admin {
  readonly channel: Channel;
  readonly model: ChannelModel;
  exchange(name: string, type?: string): Promise<string>;
  queue(name: string, bindTo?: { exchange: string; pattern?: string }, options?: Record<string, unknown>): Promise<string>;
  depth(queue: string): Promise<number>;
  consumers(queue: string): Promise<number>;
  drain(queue: string): Promise<import('amqplib').GetMessage[]>;
  cleanup(): Promise<void>;
}

/** Closes, from the broker's side, every connection whose client-provided name is `name`; resolves with how many. */
export async function closeConnectionsNamed(name: string, reason = 'closed by a messagebox test'): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
  const needle = `{"connection_name",${JSON.stringify(name)}}`;
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(needle))
    .map((line) => line.split('\t')[0]!);
  for (const pid of pids) await run('rabbitmqctl', ['-q', 'close_connection', pid, reason]);
  return pids.length;
}

/** Waits for `condition` to hold, polling, up to `timeoutMs` (generous: the machine is loaded). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
