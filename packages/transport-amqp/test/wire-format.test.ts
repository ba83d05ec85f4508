import { createMessage, MessageboxError } from '@messagebox/core';
import type { Message as AmqpMessage, MessageProperties } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { decodeAmqpMessage, encodeAmqpBody, encodeAmqpProperties } from '../src/index.js';

const delivery = (properties: Partial<MessageProperties>, body = '{"a":1}'): AmqpMessage => ({
  content: Buffer.from(body),
  fields: { deliveryTag: 1, redelivered: false, exchange: 'x', routingKey: 'k' },
  properties: { headers: {}, ...properties } as MessageProperties,
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MessageboxError);
    return (error as MessageboxError).code;
  }
  return undefined;
}

describe('AMQP wire format', () => {
  it('round-trips a message through the publish options and body', () => {
    const m = createMessage({ type: 't.x', source: 's', payload: [1, { b: null }], headers: { traceparent: 'tp' } }, { now: new Date('2030-01-01T00:00:00.123Z') });
    const props = encodeAmqpProperties(m, { mandatory: true });
    expect(props).toMatchObject({ persistent: true, mandatory: true, messageId: m.id, type: 't.x', appId: 's' });
    expect(decodeAmqpMessage(delivery(props as Partial<MessageProperties>, encodeAmqpBody(m).toString()))).toEqual(m);
  });

  it('carries the ordering key as the x-messagebox-key header, and refuses an invalid one (invalid_message)', () => {
    const m = createMessage({ type: 't.x', source: 's', payload: 1, key: 'account-9' }, { now: new Date('2030-01-01T00:00:00.123Z') });
    const props = encodeAmqpProperties(m, { mandatory: false });
    expect(props.headers?.['x-messagebox-key']).toBe('account-9');
    const decoded = decodeAmqpMessage(delivery(props as Partial<MessageProperties>, encodeAmqpBody(m).toString()));
    expect(decoded).toEqual(m);
    expect(decoded.headers).toEqual({});
    expect('x-messagebox-key' in (encodeAmqpProperties({ ...m, key: undefined } as never, { mandatory: false }).headers ?? {})).toBe(false);
    expect(code(() => decodeAmqpMessage(delivery({ messageId: 'm', type: 't', appId: 's', headers: { 'x-messagebox-key': 42 } })))).toBe('invalid_message');
  });

  it('takes a foreign publisher: second-precision timestamp, defaultSource, broker headers dropped', () => {
    const m = decodeAmqpMessage(
      delivery({ messageId: 'm1', type: 't', timestamp: 1_900_000_000, headers: { 'x-death': [], 'x-delivery-count': 2, 'x-first-death-reason': 'rejected', trace: 'v' } }),
      { defaultSource: 'legacy' },
    );
    expect(m).toMatchObject({ id: 'm1', type: 't', source: 'legacy', payload: { a: 1 }, headers: { trace: 'v' } });
    expect(m.createdAt.toISOString()).toBe('2030-03-17T17:46:40.000Z');
  });

  it('refuses what can never be a message, with the code the consumer dead-letters by', () => {
    expect(code(() => decodeAmqpMessage(delivery({ type: 't', appId: 's' })))).toBe('invalid_message');
    expect(code(() => decodeAmqpMessage(delivery({ messageId: 'm', appId: 's' })))).toBe('invalid_message');
    expect(code(() => decodeAmqpMessage(delivery({ messageId: 'm', type: 't' })))).toBe('invalid_message');
    expect(code(() => decodeAmqpMessage(delivery({ messageId: 'm', type: 't', appId: 's', headers: { n: 1 } })))).toBe('invalid_message');
    expect(code(() => decodeAmqpMessage(delivery({ messageId: 'm', type: 't', appId: 's' }, 'nope')))).toBe('invalid_payload');
    expect(code(() => decodeAmqpMessage(delivery({ messageId: 'm', type: 't', appId: 's', contentType: 'text/plain' })))).toBe('invalid_payload');
    expect(code(() => decodeAmqpMessage(delivery({ messageId: 'has space', type: 't', appId: 's' })))).toBe('invalid_message');
  });
});
