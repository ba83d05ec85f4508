import { describe, expect, it } from 'vitest';
import { assertJsonValue } from '../../src/index.js';

describe('review: payloads JSON would silently change', () => {
  it.each([
    ['a Map', { m: new Map([['a', 1]]) }, '$.m is a Map'],
    ['a Set', [new Set([1])], '$[0] is a Set'],
    ['a typed array', { bytes: new Uint8Array([1, 2]) }, '$.bytes is a Uint8Array'],
    ['an Error', { e: new Error('boom') }, '$.e is a Error'],
  ])('rejects %s', (_, payload, detail) => {
    expect(() => assertJsonValue(payload)).toThrow(expect.objectContaining({ code: 'invalid_payload', message: expect.stringContaining(detail) }));
  });

  it('still accepts plain objects, arrays, null-prototype objects, class instances and values with toJSON', () => {
    class Money {
      constructor(readonly amount = 5) {}
    }
    expect(() => assertJsonValue({ a: Object.create(null), b: [1], c: new Money(), d: new Date(), e: Buffer.from('x') })).not.toThrow();
  });
});
