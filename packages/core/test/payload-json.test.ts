import { describe, expect, it } from 'vitest';
import { createMessage, encodeWebhookBatchItem, encodeWebhookBatchRequest, encodeWebhookBody, payloadJson, rememberPayloadJson, type JsonValue } from '../src/index.js';
import { messageSize } from '../src/outbox/batch-dispatch.js';
import { utf8Length } from '../src/payload-json.js';

const payloads: JsonValue[] = [{ n: 1, note: 'x'.repeat(20) }, [1, 'two', null], 'text', 42, null, true, { nested: { 'ünï€😀': ['\u2028', '"q"', '\\'] } }];

describe('payload JSON on the way out', () => {
  it('a body written by concatenation is exactly JSON.stringify of the body object, for every payload shape, headers and key', () => {
    for (const payload of payloads) {
      for (const extra of [{}, { headers: { traceparent: '00-abc', 'x-q': 'v"ü' } }, { key: 'k-1' }]) {
        const message = createMessage({ type: 'a.b', source: 'svc', payload, ...extra }, { now: new Date(Date.UTC(2030, 0, 1)) });
        const expected = JSON.stringify({
          type: message.type,
          timestamp: message.createdAt.toISOString(),
          data: message.payload,
          source: message.source,
          ...(Object.keys(message.headers).length ? { headers: message.headers } : {}),
          ...(message.key !== undefined ? { key: message.key } : {}),
        });
        expect(encodeWebhookBody(message)).toBe(expected);
      }
    }
  });

  it('a payload a store read is written as the text it was read from, not stringified again', () => {
    const text = '{"b":1,  "a":[2]}';
    const payload = rememberPayloadJson(JSON.parse(text) as JsonValue, text);
    expect(payloadJson(payload)).toBe(text);
    expect(payloadJson({ b: 1, a: [2] })).toBe('{"b":1,"a":[2]}'); // an equal object of its own: stringified
    expect(payloadJson(rememberPayloadJson(7, '7'))).toBe('7'); // primitives are not remembered, and need not be
  });

  it('counts UTF-8 bytes as TextEncoder writes them, lone surrogates included, and messageSize as the message\'s item in a batch body', async () => {
    const encoder = new TextEncoder();
    for (const text of ['', 'ascii', 'ü', '€', '😀', 'a😀b', '\ud800', '\udc00x', 'x\ud83d', '\u07ff\u0800\uffff']) expect(utf8Length(text)).toBe(encoder.encode(text).length);
    for (const payload of payloads) {
      for (const extra of [{ headers: { h: 'ü' } }, { key: 'k-1' }, {}]) {
        const message = createMessage({ type: 'a.b', source: 'svc', payload, ...extra }, { now: new Date() });
        const { body } = await encodeWebhookBatchRequest([message], { now: 0, batchId: 'batch_1' });
        const item = body.slice('{"messages":['.length, -']}'.length);
        expect(JSON.parse(item)).toEqual(JSON.parse(body).messages[0]);
        expect(item).toBe(encodeWebhookBatchItem(message));
        expect(messageSize(message)).toBe(encoder.encode(item).length);
      }
    }
  });
});
