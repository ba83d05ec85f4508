import { describe, expect, it } from 'vitest';
import { createMessage, describeError, escapeControlCharacters, MessageboxError, quoteInput, truncateText } from '../src/index.js';

const HOSTILE = '\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\u2066\x7f';
/** Any character a terminal could act on, or that reorders text. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('escapeControlCharacters', () => {
  it('turns C0, DEL, C1 and bidi controls into visible escapes and keeps other text', () => {
    const escaped = escapeControlCharacters(`${HOSTILE} é ✓ \\ ok`);
    expect(escaped).not.toMatch(RAW_CONTROL);
    expect(escaped).toBe('\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m\\u202eevil\\u2066\\u007f é ✓ \\ ok');
    expect(escapeControlCharacters('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(escapeControlCharacters('a\nb\x1b', { keepNewlines: true })).toBe('a\nb\\u001b');
  });

  it('leaves JSON text valid JSON of the same value', () => {
    const value = { text: `x${HOSTILE}\u2028y`, n: [1, 2] };
    const json = escapeControlCharacters(JSON.stringify(value, null, 2), { keepNewlines: true });
    expect(json.replace(/\n/g, '')).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('truncateText and quoteInput', () => {
  it('caps with an ellipsis and never splits a surrogate pair', () => {
    expect(truncateText('abcdef', 6)).toBe('abcdef');
    expect(truncateText('abcdef', 4)).toBe('abc…');
    expect(truncateText('ab😀cd', 4)).toBe('ab…');
  });

  it('quotes a huge hostile value short and escaped', () => {
    const quoted = quoteInput(`${HOSTILE}${'x'.repeat(16_000)}`);
    expect(quoted.length).toBeLessThanOrEqual(120);
    expect(quoted).not.toMatch(RAW_CONTROL);
    expect(quoted.startsWith('"\\u001b]0;owned')).toBe(true);
    expect(quoted.endsWith('…')).toBe(true);
  });
});

describe('describeError', () => {
  it('escapes control characters of the message and of its cause, on one line', () => {
    const error = new MessageboxError('transport_failed', `receiver answered 400: ${HOSTILE}\nline two`, { cause: new Error('\x1b[31mred\x1b[0m') });
    const described = describeError(error);
    expect(described).not.toMatch(RAW_CONTROL);
    expect(described).toContain('\\u001b]0;owned\\u0007');
    expect(described).toContain('\\nline two');
    expect(described).toContain('(cause: \\u001b[31mred');
    expect(describeError(`thrown\x07string`)).toBe('thrown\\u0007string');
  });

  it('stays within maxLength after escaping', () => {
    expect(describeError(new Error('\x1b'.repeat(5_000)), 100).length).toBeLessThanOrEqual(100);
  });
});

describe('message headers', () => {
  it('refuses control characters in header values (tab is allowed) and names a huge bad header name briefly', () => {
    const now = new Date();
    for (const value of ['\x1b]0;owned\x07', 'a\x7fb', 'c1\x9b', 'line\nbreak', 'nul\0']) {
      expect(() => createMessage({ type: 't', source: 's', payload: 1, headers: { tenant: value } }, { now })).toThrow(/control characters/);
    }
    expect(createMessage({ type: 't', source: 's', payload: 1, headers: { tenant: 'a\tb', name: 'مرحبا é' } }, { now }).headers).toEqual({
      tenant: 'a\tb',
      name: 'مرحبا é',
    });
    const error = (() => {
      try {
        createMessage({ type: 't', source: 's', payload: 1, headers: { [`bad name ${'x'.repeat(16_000)}`]: 'v' } }, { now });
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/not a valid HTTP header name/);
    expect(error!.message.length).toBeLessThan(300);
  });

  it('repeats at most a short prefix of a huge invalid id or payload path', () => {
    const now = new Date();
    const id = `has space ${'x'.repeat(16_000)}`;
    expect(() => createMessage({ id, type: 't', source: 's', payload: 1 }, { now })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/^.{1,400}$/s) }),
    );
    const payload = { [`${'k'.repeat(16_000)}`]: () => {} };
    expect(() => createMessage({ type: 't', source: 's', payload: payload as never }, { now })).toThrow(
      expect.objectContaining({ code: 'invalid_payload', message: expect.stringMatching(/^.{1,400}$/s) }),
    );
  });
});
