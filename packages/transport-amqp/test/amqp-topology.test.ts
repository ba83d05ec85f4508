import { createInbox, createMemoryInboxStore, createMessage, type Message } from '@messagebox/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createAmqpInboxConsumer, createAmqpTopology, createAmqpTransport, DEAD_LETTER_CODE_HEADER, type AmqpTopology } from '../src/index.js';
import { AMQP_URL, openAdmin, requireBroker, uniqueName, until } from './support/broker.js';

const reachable = await requireBroker();
const message = (type: string): Message => createMessage({ type, source: 'shop', payload: 1 }, { now: new Date() });

describe('createAmqpTopology: options', () => {
  it('refuses missing names and bad binding keys with invalid_options', () => {
    for (const options of [{ url: AMQP_URL, exchange: '', queue: 'q' }, { url: AMQP_URL, exchange: 'x' }, { url: AMQP_URL, exchange: 'x', queue: 'q', bindingKeys: [] }, { url: AMQP_URL, exchange: 'x', queue: 'q', deadLetterExchange: '' }]) {
      expect(() => createAmqpTopology(options as never)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    }
  });

  it('names the dead-letter exchange and queue after the queue, or none with deadLetterExchange: false', () => {
    expect(createAmqpTopology({ url: AMQP_URL, exchange: 'orders', queue: 'shipping' })).toMatchObject({ bindingKeys: ['#'], deadLetterExchange: 'shipping.dead', deadLetterQueue: 'shipping.dead' });
    expect(createAmqpTopology({ url: AMQP_URL, exchange: 'orders', queue: 'shipping', deadLetterExchange: false })).toMatchObject({ deadLetterExchange: undefined, deadLetterQueue: undefined });
  });

  it('an unreachable broker rejects declare() with transport_failed, naming the broker without its password', async () => {
    const topology = createAmqpTopology({ url: 'amqp://guest:secret@127.0.0.1:1', exchange: 'x', queue: 'q', timeoutMs: 2_000 });
    const error = await topology.declare().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'transport_failed', message: expect.stringContaining('cannot reach RabbitMQ at amqp://127.0.0.1:1') });
    expect((error as Error).message).not.toContain('secret');
  });
});

describe.runIf(reachable)('createAmqpTopology against RabbitMQ', () => {
  const declared: AmqpTopology[] = [];
  afterEach(async () => {
    await Promise.all(declared.splice(0).map((t) => t.delete()));
  });
  const topology = (bindingKeys?: string[]) => {
    const t = createAmqpTopology({ url: AMQP_URL, exchange: uniqueName('orders'), queue: uniqueName('shipping'), ...(bindingKeys ? { bindingKeys } : {}) });
    declared.push(t);
    return t;
  };

  it('declares exchange, bound queue and dead-letter exchange with its queue (twice is fine); messages flow; dead letters land in the dead-letter queue; delete removes it all', async () => {
    const t = topology(['order.#']);
    await t.declare();
    await t.declare();
    const admin = await openAdmin();
    try {
      const transport = createAmqpTransport({ url: AMQP_URL, exchange: t.exchange });
      await transport.send(message('order.placed'), { attempt: 1 });
      await expect(transport.send(message('invoice.sent'), { attempt: 1 })).rejects.toMatchObject({ code: 'transport_failed' }); // bound to order.# only: unroutable
      await transport.close();
      expect(await admin.depth(t.queue)).toBe(1);

      const received: string[] = [];
      const inbox = createInbox({ store: createMemoryInboxStore() }).on('order.placed', () => {});
      const consumer = createAmqpInboxConsumer({ url: AMQP_URL, queue: t.queue, deadLetterExchange: t.deadLetterExchange, inbox: { receive: async (m) => (received.push(m.type), inbox.receive(m)) } });
      admin.channel.publish(t.exchange, 'order.unknown', Buffer.from('{}'), { messageId: 'no-handler', type: 'order.unknown', appId: 'shop', contentType: 'application/json' });
      await consumer.start();
      await until(async () => (await admin.depth(t.deadLetterQueue!)) === 1 && received.includes('order.placed'), 'the good message stored and the bad one dead-lettered');
      await consumer.stop();
      const [dead] = await admin.drain(t.deadLetterQueue!);
      expect(dead?.properties.headers?.[DEAD_LETTER_CODE_HEADER]).toBeDefined();

      // The queue's own x-dead-letter-exchange: a rejected message goes there too.
      admin.channel.publish(t.exchange, 'order.placed', Buffer.from('x'));
      await until(async () => (await admin.depth(t.queue)) === 1, 'a message to reject');
      const got = await admin.channel.get(t.queue);
      if (got === false) throw new Error('no message to reject');
      admin.channel.nack(got, false, false);
      await until(async () => (await admin.depth(t.deadLetterQueue!)) === 1, 'the rejected message in the dead-letter queue');

      await t.delete();
      declared.splice(0);
      const probe = await admin.model.createChannel();
      probe.on('error', () => {}); // the broker closes it for the missing queue
      await expect(probe.checkQueue(t.queue)).rejects.toThrow(/NOT_FOUND/);
    } finally {
      await admin.model.close().catch(() => {});
    }
  });

  it('assert fits the consumer\'s setup: the consumer declares the topology itself on connect', async () => {
    const t = topology();
    const inbox = createInbox({ store: createMemoryInboxStore() }).on('order.placed', () => {});
    const consumer = createAmqpInboxConsumer({ url: AMQP_URL, queue: t.queue, setup: t.assert, inbox });
    await consumer.start();
    const transport = createAmqpTransport({ url: AMQP_URL, exchange: t.exchange });
    const m = message('order.placed');
    await transport.send(m, { attempt: 1 });
    await transport.close();
    await until(async () => (await inbox.store.get(m)) !== null, 'the message stored');
    await consumer.stop();
  });
});
