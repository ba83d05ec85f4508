import { createMemoryOutboxStore, createOutbox, silentLogger, type Message, type SendBatchContext, type SendOutcome, type Transport } from '@messagebox/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../src/index.js';
import { AMQP_URL, closeConnectionsNamed, openAdmin, requireBroker, uniqueName, until, type Admin } from './support/broker.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const reachable = await requireBroker();

describe.runIf(reachable)('outbox over AMQP', () => {
  let admin: Admin;
  let proxy: TcpProxy;
  beforeEach(async () => {
    admin = await openAdmin();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5672 });
  });
  afterEach(async () => {
    try {
      await proxy.close();
    } finally {
      await admin.cleanup();
    }
  });

  it('keyed messages reach the queue one key at a time in creation order, each with its x-messagebox-key header', async () => {
    const exchange = await admin.exchange(uniqueName('accounts'));
    const queue = await admin.queue(uniqueName('accounts-q'), { exchange });
    const transport = createAmqpTransport({ url: AMQP_URL, exchange, timeoutMs: 30_000 });
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'bank', logger: silentLogger, pollIntervalMs: 20 });
    outbox.configure('account.changed', { transport });
    try {
      await outbox.start();
      const added = await outbox.transaction((tx) =>
        outbox.addMany(tx, Array.from({ length: 12 }, (_, n) => ({ type: 'account.changed', payload: { n }, key: `acct-${n % 3}` }))),
      );
      await until(async () => (await store.stats()).sent === added.length, 'every message to be confirmed');
      const delivered = await admin.drain(queue);
      const keyOf = (m: { properties: { headers?: Record<string, unknown> } }) => m.properties.headers?.['x-messagebox-key'];
      for (const key of ['acct-0', 'acct-1', 'acct-2']) {
        expect(delivered.filter((m) => keyOf(m) === key).map((m) => m.properties.messageId)).toEqual(added.filter((m) => m.key === key).map((m) => m.id));
      }
    } finally {
      await outbox.close();
    }
  });

  it('a connection the broker closes mid-send loses nothing: the unconfirmed messages are retried and delivered', async () => {
    const exchange = await admin.exchange(uniqueName('orders'));
    const queue = await admin.queue(uniqueName('orders-q'), { exchange });
    const connectionName = uniqueName('outbox-conn');
    const transport = createAmqpTransport({ url: proxy.url, exchange, connectionName, timeoutMs: 30_000 });
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'shop', logger: silentLogger, retry: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } });
    outbox.configure('order.placed', { transport });
    const failures: unknown[] = [];
    outbox.events.on('failed', (event) => failures.push(event));
    try {
      await outbox.transaction((tx) => outbox.add(tx, { type: 'order.placed', payload: { n: 0 } }));
      await outbox.idle();
      expect(await store.stats()).toMatchObject({ sent: 1, pending: 0 });

      proxy.hold();
      const total = 20;
      const ids: string[] = [];
      await outbox.transaction(async (tx) => {
        for (let n = 1; n <= total; n++) ids.push((await outbox.add(tx, { type: 'order.placed', payload: { n } })).id);
      });
      await until(async () => (await admin.depth(queue)) === total + 1, 'the broker to hold every message');
      expect(await closeConnectionsNamed(connectionName)).toBe(1);
      await outbox.idle();
      expect(await store.stats()).toMatchObject({ sent: 1, pending: total, dead: 0 });
      expect(failures).toHaveLength(total);

      proxy.release();
      await until(async () => {
        await outbox.resendUnsentMessages();
        return (await store.stats()).sent === total + 1;
      }, 'the resends to be confirmed');
      const delivered = (await admin.drain(queue)).map((m) => m.properties.messageId as string);
      for (const id of ids) expect(delivered.filter((d) => d === id)).toHaveLength(2);
      expect(delivered).toHaveLength(1 + 2 * total);
    } finally {
      await outbox.close();
    }
  });

  it('a route with `batch` hands claimed batches to sendBatch (core port types): every message reaches the queue exactly once', async () => {
    const exchange = await admin.exchange(uniqueName('orders-batch'));
    const queue = await admin.queue(uniqueName('orders-batch-q'), { exchange });
    const transport: Transport = createAmqpTransport({ url: AMQP_URL, exchange, timeoutMs: 30_000 });
    const batchSizes: number[] = [];
    let singleSends = 0;
    const sendBatch = transport.sendBatch!.bind(transport);
    const send = transport.send.bind(transport);
    transport.sendBatch = (messages: readonly Message[], context: SendBatchContext): Promise<readonly SendOutcome[]> => {
      batchSizes.push(messages.length);
      return sendBatch(messages, context);
    };
    transport.send = (message, context) => {
      singleSends++;
      return send(message, context);
    };
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'shop', logger: silentLogger, retry: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } });
    outbox.configure('order.placed', { transport, batch: { maxMessages: 50 } });
    try {
      const total = 300;
      const ids: string[] = [];
      await outbox.transaction(async (tx) => {
        for (let n = 0; n < total; n++) ids.push((await outbox.add(tx, { type: 'order.placed', payload: { n } })).id);
      });
      await until(async () => {
        await outbox.resendUnsentMessages();
        return (await store.stats()).sent === total;
      }, 'every message confirmed', 60_000);
      expect(await store.stats()).toMatchObject({ sent: total, pending: 0, dead: 0 });
      expect(singleSends).toBe(0);
      expect(batchSizes.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...batchSizes)).toBeGreaterThan(1);
      expect(Math.max(...batchSizes)).toBeLessThanOrEqual(50);
      const delivered = (await admin.drain(queue)).map((m) => m.properties.messageId as string);
      expect(delivered).toHaveLength(total);
      expect(new Set(delivered)).toEqual(new Set(ids));
    } finally {
      await outbox.close();
    }
  });
});
