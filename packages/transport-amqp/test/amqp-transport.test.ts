import { createMessage, MessageboxError, TransportError, type Message } from '@messagebox/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AMQP_NO_ROUTE, createAmqpTransport, CREATED_AT_HEADER, decodeAmqpMessage, type AmqpTransport, type AmqpTransportOptions } from '../src/index.js';
import { AMQP_URL, closeConnectionsNamed, openAdmin, requireBroker, uniqueName, until, type Admin } from './support/broker.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const reachable = await requireBroker();

const message = (type = 'order.placed', headers: Record<string, string> = {}): Message =>
  createMessage({ type, source: 'shop', payload: { total: 42, note: 'é' }, headers }, { now: new Date('2030-01-02T03:04:05.678Z') });

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

describe.runIf(reachable)('AMQP transport against RabbitMQ', () => {
  let admin: Admin;
  let exchange: string;
  let queue: string;
  const transports: AmqpTransport[] = [];
  const proxies: TcpProxy[] = [];
  const transport = (options: Partial<AmqpTransportOptions> = {}) => {
    const t = createAmqpTransport({ url: AMQP_URL, exchange, ...options });
    transports.push(t);
    return t;
  };
  const proxy = async () => {
    const p = await startTcpProxy({ host: '127.0.0.1', port: 5672 });
    proxies.push(p);
    return p;
  };

  beforeEach(async () => {
    admin = await openAdmin();
    exchange = await admin.exchange(uniqueName('orders'));
    queue = await admin.queue(uniqueName('orders-q'), { exchange, pattern: 'order.#' });
  });
  afterEach(async () => {
    try {
      await Promise.all(proxies.splice(0).map((p) => p.close()));
      await Promise.all(transports.splice(0).map((t) => t.close()));
    } finally {
      await admin.cleanup();
    }
  });

  it('publishes persistent JSON with the id, type, source, timestamp and headers as AMQP properties', async () => {
    const m = message('order.placed', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    await transport().send(m, { attempt: 1 });
    const [delivered] = await admin.drain(queue);
    expect(delivered).toBeDefined();
    const { properties, content, fields } = delivered!;
    expect(fields.routingKey).toBe('order.placed');
    expect(properties).toMatchObject({
      messageId: m.id,
      type: 'order.placed',
      appId: 'shop',
      deliveryMode: 2,
      contentType: 'application/json',
      timestamp: Math.floor(m.createdAt.getTime() / 1000),
    });
    expect(properties.headers).toMatchObject({ traceparent: m.headers['traceparent'], [CREATED_AT_HEADER]: '2030-01-02T03:04:05.678Z' });
    expect(JSON.parse(content.toString('utf8'))).toEqual({ total: 42, note: 'é' });
    expect(decodeAmqpMessage(delivered!)).toEqual(m);
  });

  it('send stays pending until the broker confirms, though the queue already holds the message', async () => {
    const p = await proxy();
    const t = transport({ url: p.url });
    await t.send(message(), { attempt: 1 });
    await admin.drain(queue);
    p.hold();
    let settled = false;
    const sending = t.send(message(), { attempt: 1 }).finally(() => (settled = true));
    await until(async () => (await admin.depth(queue)) === 1, 'the broker to hold the message');
    expect(settled).toBe(false);
    p.release();
    await expect(sending).resolves.toBeUndefined();
  });

  it('no confirm within timeoutMs rejects, retryable and timedOut', async () => {
    const p = await proxy();
    const t = transport({ url: p.url, timeoutMs: 300 });
    await t.send(message(), { attempt: 1 });
    p.hold();
    const error = await failure(t.send(message(), { attempt: 1 }));
    expect(error).toMatchObject({ retryable: true, timedOut: true });
    expect(error.message).toMatch(/no confirm .* within 300 ms/);
  });

  it('a nack (queue full, reject-publish) rejects, retryable', async () => {
    const full = await admin.queue(uniqueName('full'), undefined, { maxLength: 1, overflow: 'reject-publish' });
    await admin.channel.bindQueue(full, exchange, 'full.#');
    const t = transport();
    await t.send(message('full.one'), { attempt: 1 });
    const error = await failure(t.send(message('full.two'), { attempt: 1 }));
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toMatch(/refused .* \(nack\)/);
    expect(await admin.depth(full)).toBe(1);
  });

  it('an unroutable message comes back and rejects, retryable, with status 312; mandatory: false takes the confirm alone', async () => {
    const error = await failure(transport().send(message('invoice.sent'), { attempt: 1 }));
    expect(error).toMatchObject({ retryable: true, status: AMQP_NO_ROUTE });
    expect(error.message).toMatch(/could not route .*"invoice\.sent"/);
    await expect(transport({ mandatory: false }).send(message('invoice.sent'), { attempt: 1 })).resolves.toBeUndefined();
    await expect(transport().send(message('order.placed'), { attempt: 1 })).resolves.toBeUndefined();
  });

  it('a missing exchange closes the channel and rejects; the next send reconnects by itself', async () => {
    const missing = uniqueName('missing');
    const t = transport({ exchange: missing });
    const error = await failure(t.send(message(), { attempt: 1 }));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/NOT_FOUND/);
    await admin.exchange(missing);
    await admin.channel.bindQueue(queue, missing, '#');
    await expect(t.send(message(), { attempt: 1 })).resolves.toBeUndefined();
    expect(await admin.depth(queue)).toBe(1);
  });

  it('a connection closed by the broker is reopened by the next send', async () => {
    const connectionName = uniqueName('conn');
    const t = transport({ connectionName });
    await t.send(message(), { attempt: 1 });
    expect(await closeConnectionsNamed(connectionName)).toBe(1);
    // A send racing the close may go out on the dying connection: then it fails, retryable, and marks the connection lost.
    const racing = await t.send(message(), { attempt: 1 }).then(() => 'sent', (e: unknown) => e);
    if (racing !== 'sent') expect(racing).toMatchObject({ retryable: true });
    await expect(t.send(message(), { attempt: 1 })).resolves.toBeUndefined();
    expect(await admin.depth(queue)).toBeGreaterThanOrEqual(racing === 'sent' ? 3 : 2);
  });

  it('a message that can never be published (headers over 64 KiB) rejects, not retryable; the channel stays usable', async () => {
    const t = transport();
    const error = await failure(t.send(message('order.placed', { big: 'x'.repeat(70_000) }), { attempt: 1 }));
    expect(error.retryable).toBe(false);
    await expect(t.send(message(), { attempt: 1 })).resolves.toBeUndefined();
    expect(await admin.depth(queue)).toBe(1);
  });

  it('sendBatch confirms each message on its own: one outcome per message, in order', async () => {
    const batch = [message('order.placed'), message('invoice.sent'), message('order.shipped')];
    const outcomes = await transport().sendBatch(batch, { attempts: [1, 1, 1] });
    expect(outcomes.map((o) => o.delivered)).toEqual([true, false, true]);
    expect(outcomes[1]).toMatchObject({ delivered: false, error: { status: AMQP_NO_ROUTE } });
    expect((await admin.drain(queue)).map((m) => m.properties.messageId)).toEqual([batch[0]!.id, batch[2]!.id]);
  });

  it('sendBatch reports every message failed when no connection can be made', async () => {
    const outcomes = await transport({ url: 'amqp://guest:guest@127.0.0.1:1', timeoutMs: 2_000 }).sendBatch([message(), message()], { attempts: [1, 1] });
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) expect(o).toMatchObject({ delivered: false, error: { retryable: true } });
  });

  it('a closed transport refuses sends without attempting them', async () => {
    const t = transport();
    await t.send(message(), { attempt: 1 });
    await t.close();
    expect(await failure(t.send(message(), { attempt: 1 }))).toMatchObject({ notAttempted: true });
  });
});

describe('AMQP transport options', () => {
  it('refuses bad options with invalid_options', () => {
    for (const bad of [{}, { url: AMQP_URL }, { url: AMQP_URL, exchange: 'x', timeoutMs: 0 }, { url: AMQP_URL, exchange: 'x', maxConcurrency: 1.5 }]) {
      expect(() => createAmqpTransport(bad as AmqpTransportOptions)).toThrow(MessageboxError);
    }
    expect(createAmqpTransport({ url: AMQP_URL, exchange: 'x', maxConcurrency: 7 }).maxConcurrency).toBe(7);
  });
});
