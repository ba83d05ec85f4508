import { describe, expect, it } from 'vitest';
import { assertJsonValue, createMessage, MessageboxError, newMessageId } from '../src/index.js';

const now = new Date('2030-01-01T00:00:00Z');

describe('createMessage', () => {
  it('fills id, source default and headers', () => {
    const m = createMessage({ type: 'payment.created', payload: { amount: 10 }, headers: { TraceParent: 'x' } }, { source: 'vault', now });
    expect(m.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(m).toMatchObject({ source: 'vault', type: 'payment.created', payload: { amount: 10 }, headers: { traceparent: 'x' }, createdAt: now });
    expect(Object.isFrozen(m)).toBe(true);
  });

  it('generates ids that sort by creation order', () => {
    const ids = Array.from({ length: 200 }, () => newMessageId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(200);
  });

  it.each([
    ['undefined', undefined, '$ is undefined'],
    ['a function', { f: () => 1 }, '$.f is a function'],
    ['a bigint', { n: 10n }, '$.n is a bigint'],
    ['NaN', [1, Number.NaN], '$[1] is the number NaN'],
    ['Infinity', { deep: { x: Number.POSITIVE_INFINITY } }, '$.deep.x is the number Infinity'],
    ['a symbol', { s: Symbol('x') }, '$.s is a symbol'],
    ['undefined in an array', [undefined], '$[0] is undefined'],
  ])('rejects a payload with %s', (_, payload, detail) => {
    const error = (() => {
      try {
        createMessage({ type: 't', payload: payload as never }, { source: 's', now });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MessageboxError);
    expect((error as MessageboxError).code).toBe('invalid_payload');
    expect((error as MessageboxError).message).toContain(detail);
  });

  it('rejects a circular payload', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => assertJsonValue(a)).toThrow(/circular reference/);
  });

  it('accepts dates, nulls and objects with undefined properties', () => {
    expect(() => assertJsonValue({ at: new Date(), n: null, u: undefined, list: [1, 'a', true] })).not.toThrow();
  });

  it.each([
    ['an empty type', { type: '', payload: 1 }],
    ['a type with spaces', { type: 'payment created', payload: 1 }],
    ['a non-string header', { type: 't', payload: 1, headers: { a: 1 } }],
    ['an empty id', { type: 't', payload: 1, id: '' }],
    ['a header name with a space', { type: 't', payload: 1, headers: { 'trace parent': 'x' } }],
    ['a header value with a line break', { type: 't', payload: 1, headers: { a: 'x\r\ninjected: 1' } }],
  ])('rejects %s', (_, input) => {
    expect(() => createMessage(input as never, { source: 's', now })).toThrow(expect.objectContaining({ code: 'invalid_message' }));
  });

  it('requires a source', () => {
    expect(() => createMessage({ type: 't', payload: 1 }, { now })).toThrow(/has no source/);
  });
});
