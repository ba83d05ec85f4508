import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createInbox, createMemoryInboxStore, createMessage, MessageboxError, silentLogger, type Message, type ReceiveResult } from '@messagebox/core';
import { createSqliteStorage } from '@messagebox/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createAmqpInboxConsumer,
  createAmqpTransport,
  DEAD_LETTER_CODE_HEADER,
  DEAD_LETTER_QUEUE_HEADER,
  DEAD_LETTER_REASON_HEADER,
  type AmqpConsumerInbox,
  type AmqpInboxConsumer,
  type AmqpInboxConsumerOptions,
  type AmqpTransport,
} from '../src/index.js';
import { AMQP_URL, closeConnectionsNamed, openAdmin, requireBroker, uniqueName, until, type Admin } from './support/broker.js';

const reachable = await requireBroker();

const message = (type = 'order.placed', payload: number = 1): Message => createMessage({ type, source: 'shop', payload }, { now: new Date() });

/** An inbox that records what each receive returned. */
function recordingInbox(inner: AmqpConsumerInbox = createInbox({ store: createMemoryInboxStore() }).on('order.placed', () => {})) {
  const results: Array<{ id: string; status: ReceiveResult['status'] }> = [];
  return {
    results,
    async receive(m: Message) {
      const result = await inner.receive(m);
      results.push({ id: m.id, status: result.status });
      return result;
    },
  };
}

describe.runIf(reachable)('AMQP inbox consumer against RabbitMQ', () => {
  let admin: Admin;
  let exchange: string;
  let queue: string;
  let transport: AmqpTransport;
  const consumers: AmqpInboxConsumer[] = [];
  const consumer = (options: Partial<AmqpInboxConsumerOptions> & Pick<AmqpInboxConsumerOptions, 'inbox'>) => {
    const c = createAmqpInboxConsumer({ url: AMQP_URL, queue, requeueDelayMs: 10, ...options });
    consumers.push(c);
    return c;
  };
  const publish = async (...messages: Message[]) => {
    for (const m of messages) await transport.send(m, { attempt: 1 });
  };

  beforeEach(async () => {
    admin = await openAdmin();
    exchange = await admin.exchange(uniqueName('orders'));
    queue = await admin.queue(uniqueName('orders-q'), { exchange });
    transport = createAmqpTransport({ url: AMQP_URL, exchange });
  });
  afterEach(async () => {
    try {
      await Promise.all(consumers.splice(0).map((c) => c.stop({ timeoutMs: 5_000 })));
      await transport.close();
    } finally {
      await admin.cleanup();
    }
  });

  it('stores each message, acks it after the store, and acks a duplicate without storing it again', async () => {
    const inbox = recordingInbox();
    const first = message('order.placed', 1);
    const second = message('order.placed', 2);
    await publish(first, second, first);
    await consumer({ inbox }).start();
    await until(() => inbox.results.length === 3, 'three receives');
    expect(inbox.results.map((r) => r.status).sort()).toEqual(['created', 'created', 'duplicate']);
    await until(async () => (await admin.depth(queue)) === 0, 'the queue to empty');
    await consumers[0]!.stop();
    expect(await admin.depth(queue)).toBe(0);
  });

  it('dead-letters messages that can never be stored, with the reason in headers, and never redelivers them', async () => {
    const dlx = await admin.exchange(uniqueName('dead'), 'fanout');
    const dlq = await admin.queue(uniqueName('dead-q'), { exchange: dlx });
    const inbox = recordingInbox();
    await publish(message('order.unknown'));
    const raw = (body: string, properties: Record<string, unknown>) => admin.channel.publish(exchange, 'raw', Buffer.from(body), properties);
    raw('{not json', { messageId: 'bad-json', type: 'order.placed', appId: 'shop', contentType: 'application/json' });
    raw('{}', { type: 'order.placed', appId: 'shop' });
    await until(async () => (await admin.depth(queue)) === 3, 'three messages in the queue');
    await publish(message('order.placed'));
    await consumer({ inbox, deadLetterExchange: dlx }).start();
    await until(async () => (await admin.depth(dlq)) === 3, 'three dead letters');
    await until(() => inbox.results.length === 1, 'the good message');
    const dead = await admin.drain(dlq);
    const codes = dead.map((d) => d.properties.headers?.[DEAD_LETTER_CODE_HEADER]).sort();
    expect(codes).toEqual(['invalid_message', 'invalid_payload', 'unknown_type']);
    for (const d of dead) {
      expect(d.properties.headers?.[DEAD_LETTER_QUEUE_HEADER]).toBe(queue);
      expect(String(d.properties.headers?.[DEAD_LETTER_REASON_HEADER])).not.toBe('');
    }
    const unknown = dead.find((d) => d.properties.headers?.[DEAD_LETTER_CODE_HEADER] === 'unknown_type')!;
    expect(unknown.properties).toMatchObject({ type: 'order.unknown', appId: 'shop', deliveryMode: 2 });
    expect(String(unknown.properties.headers?.[DEAD_LETTER_REASON_HEADER])).toMatch(/order\.unknown/);
    await until(async () => (await admin.depth(queue)) === 0, 'the queue to empty');
  });

  it('a dead-letter exchange that routes nowhere loses nothing: the message is requeued until a queue is bound', async () => {
    const dlx = await admin.exchange(uniqueName('dead-unbound'), 'fanout');
    const m = message('order.unknown');
    await publish(m);
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_fields: Record<string, unknown>, text: string) => void warnings.push(text) };
    await consumer({ inbox: recordingInbox(), deadLetterExchange: dlx, prefetch: 1, logger }).start();
    await until(() => warnings.filter((w) => w.startsWith('could not dead-letter')).length >= 2, 'two dead-letter attempts that routed nowhere');
    const dlq = await admin.queue(uniqueName('dead-late-q'), { exchange: dlx });
    await until(async () => (await admin.depth(dlq)) === 1, 'the copy in the late-bound dead-letter queue');
    const [dead] = await admin.drain(dlq);
    expect(dead!.properties.messageId).toBe(m.id);
    await until(async () => (await admin.depth(queue)) === 0, 'the original to be acked');
  });

  it('start() rejects when the queue does not exist', async () => {
    const c = consumer({ inbox: recordingInbox(), queue: uniqueName('absent') });
    await expect(c.start()).rejects.toMatchObject({ code: 'transport_failed' });
  });

  it('without deadLetterExchange an unstorable message is rejected to the queue\'s own dead-letter exchange', async () => {
    const dlx = await admin.exchange(uniqueName('queue-dead'), 'fanout');
    const dlq = await admin.queue(uniqueName('queue-dead-q'), { exchange: dlx });
    queue = await admin.queue(uniqueName('with-dlx'), { exchange, pattern: 'order.unknown' }, { deadLetterExchange: dlx });
    await publish(message('order.unknown'));
    await consumer({ inbox: recordingInbox() }).start();
    await until(async () => (await admin.depth(dlq)) === 1, 'the rejected message');
    const [dead] = await admin.drain(dlq);
    expect(dead!.properties.headers?.['x-first-death-reason']).toBe('rejected');
  });

  it('a store failure requeues the message, and it is stored once the store recovers', async () => {
    const inner = recordingInbox();
    let failuresLeft = 2;
    const inbox: AmqpConsumerInbox = {
      async receive(m) {
        if (failuresLeft-- > 0) throw new MessageboxError('store_failed', 'database is down');
        return inner.receive(m);
      },
    };
    const m = message();
    await publish(m);
    await consumer({ inbox }).start();
    await until(() => inner.results.length === 1, 'the message to be stored');
    expect(inner.results).toEqual([{ id: m.id, status: 'created' }]);
    await until(async () => (await admin.depth(queue)) === 0, 'the queue to empty');
  });

  it('stop() cancels the consumer, finishes the store in flight and acks it before closing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = recordingInbox();
    let entered = 0;
    const inbox: AmqpConsumerInbox = {
      async receive(m) {
        entered++;
        await gate;
        return inner.receive(m);
      },
    };
    await publish(message(), message());
    const c = consumer({ inbox, prefetch: 1 });
    await c.start();
    await until(() => entered === 1, 'the first store to start');
    let stopped: boolean | undefined;
    const stopping = c.stop().then((finished) => (stopped = finished));
    await until(async () => (await admin.consumers(queue)) === 0, 'the broker to drop the consumer');
    expect(stopped).toBeUndefined();
    release();
    expect(await stopping).toBe(true);
    expect(inner.results).toHaveLength(1);
    expect(entered).toBe(1);
    expect(await admin.depth(queue)).toBe(1);
  });

  it('several consumers share one queue: every message stored exactly once', async () => {
    const store = createMemoryInboxStore();
    const inner = createInbox({ store }).on('order.placed', () => {});
    const a = recordingInbox(inner);
    const b = recordingInbox(inner);
    await consumer({ inbox: a, prefetch: 1 }).start();
    await consumer({ inbox: b, prefetch: 1 }).start();
    const messages = Array.from({ length: 40 }, (_, n) => message('order.placed', n));
    await publish(...messages);
    await until(() => a.results.length + b.results.length === 40, 'every message');
    expect(a.results.length).toBeGreaterThan(0);
    expect(b.results.length).toBeGreaterThan(0);
    expect([...a.results, ...b.results].every((r) => r.status === 'created')).toBe(true);
    expect(new Set([...a.results, ...b.results].map((r) => r.id)).size).toBe(40);
  });

  it('reconnects by itself after the broker closes its connection', async () => {
    const inbox = recordingInbox();
    const connectionName = uniqueName('consumer-conn');
    await consumer({ inbox, connectionName }).start();
    await publish(message());
    await until(() => inbox.results.length === 1, 'the first message');
    expect(await closeConnectionsNamed(connectionName)).toBe(1);
    await until(async () => (await admin.consumers(queue)) === 1, 'the consumer to come back');
    await publish(message());
    await until(() => inbox.results.length === 2, 'a message after the reconnect');
  });

  it('a consumer killed (SIGKILL) after storing and before acking: the broker redelivers and the inbox deduplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbx-amqp-'));
    const file = join(dir, 'inbox.db');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
    try {
      const storage = createSqliteStorage({ db });
      await storage.migrate();
      const m = message();
      await publish(m);
      const child = spawn(process.execPath, ['--conditions=@messagebox/source', '--import', 'tsx', fileURLToPath(new URL('./fixtures/store-then-hang.ts', import.meta.url))], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, MB_DB_FILE: file, MB_AMQP_URL: AMQP_URL, MB_QUEUE: queue },
      });
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
      const said: string[] = [];
      child.on('message', (text) => said.push(String(text)));
      await until(() => said.includes(`stored ${m.id} created`), 'the child to store the message', 60_000);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(await storage.inbox.get(m)).not.toBeNull();

      const inbox = recordingInbox(createInbox({ store: storage.inbox }).on('order.placed', () => {}));
      await consumer({ inbox }).start();
      await until(() => inbox.results.length === 1, 'the redelivery');
      expect(inbox.results).toEqual([{ id: m.id, status: 'duplicate' }]);
      await until(async () => (await admin.depth(queue)) === 0, 'the redelivery to be acked');
      expect((await storage.inbox.stats()).received + (await storage.inbox.stats()).processed).toBe(1);
    } finally {
      await Promise.all(consumers.splice(0).map((c) => c.stop({ timeoutMs: 5_000 })));
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('AMQP inbox consumer options', () => {
  it('refuses bad options with invalid_options', () => {
    const inbox = { receive: async () => ({ status: 'created' as const }) };
    for (const bad of [{}, { url: AMQP_URL, queue: '', inbox }, { url: AMQP_URL, queue: 'q' }, { url: AMQP_URL, queue: 'q', inbox, prefetch: 0 }]) {
      expect(() => createAmqpInboxConsumer(bad as AmqpInboxConsumerOptions)).toThrow(MessageboxError);
    }
  });
});
