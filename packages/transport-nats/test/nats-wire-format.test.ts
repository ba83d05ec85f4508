import { createMessage, MessageboxError } from '@messagebox/core';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { decodeNatsMessage, encodeNatsMessage, isLiteralSubject, natsMsgId } from '../src/index.js';

const message = createMessage(
  { type: 'order.placed', source: 'shop', payload: { items: [1, 2], note: null }, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'Nats-Expected-Stream': 'X' } },
  { now: new Date('2030-05-06T07:08:09.010Z') },
);

describe('transport-nats: wire format', () => {
  it('round-trips a message, its key included; message headers cannot pose as Nats-* headers', () => {
    const keyed = { ...message, key: 'customer-7' };
    const wire = encodeNatsMessage(keyed);
    expect(wire.headers.get('Nats-Expected-Stream')).toBe('');
    expect(wire.headers.get('Messagebox-Header-nats-expected-stream')).toBe('X');
    expect(wire.headers.get('Messagebox-Key')).toBe('customer-7');
    const decoded = decodeNatsMessage({ headers: wire.headers, data: new TextEncoder().encode(wire.body), subject: 'orders.order.placed' });
    expect(decoded).toEqual(keyed);
  });

  it('refuses a message without its headers (invalid_message), a bad timestamp (invalid_message) and a body that is not JSON (invalid_payload)', () => {
    const data = new TextEncoder().encode('{}');
    expect(() => decodeNatsMessage({ headers: undefined, data, subject: 's' })).toThrow(expect.objectContaining({ code: 'invalid_message' }));
    const wire = encodeNatsMessage(message);
    const badTime = natsHeaders();
    for (const name of wire.headers.keys()) badTime.set(name, wire.headers.get(name));
    badTime.set('Messagebox-Timestamp', 'yesterday');
    expect(() => decodeNatsMessage({ headers: badTime, data, subject: 's' })).toThrow(/not a date/);
    let error: unknown;
    try {
      decodeNatsMessage({ headers: wire.headers, data: new Uint8Array([0xff, 0xfe]), subject: 's' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MessageboxError);
    expect(error).toMatchObject({ code: 'invalid_payload' });
  });

  it('Nats-Msg-Id is unique per (source, id), even when either contains ":"', () => {
    expect(natsMsgId({ source: 'shop', id: '42' })).toBe('shop:42');
    expect(natsMsgId({ source: 'a:b', id: 'c' })).not.toBe(natsMsgId({ source: 'a', id: 'b:c' }));
    expect(natsMsgId({ source: 'a%3Ab', id: 'c' })).not.toBe(natsMsgId({ source: 'a:b', id: 'c' }));
  });

  it('isLiteralSubject accepts dot-separated tokens only', () => {
    expect(isLiteralSubject('orders.order.placed')).toBe(true);
    for (const bad of ['', 'a..b', '.a', 'a.', 'a.*', 'a.>', 'a b', 'a\tb']) expect(isLiteralSubject(bad), bad).toBe(false);
  });
});
