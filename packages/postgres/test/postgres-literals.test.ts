import { describe, expect, it } from 'vitest';
import { inlineParameters } from '../src/postgres-literals.js';

describe('inlineParameters: a compiled statement with its values written as literals', () => {
  it('replaces each placeholder by its value, strings escaped, and leaves quoted text alone', () => {
    const sql = `insert into "t$1" ("a", "b", "c", "d", "e") values ($1, $2, $3, $4, $10) returning '$2' as "x"`;
    const parameters = ["it's", -5, null, true, 'C:\\x', 6, 7, 8, 9, 'ten'];
    expect(inlineParameters({ sql, parameters })).toBe(`insert into "t$1" ("a", "b", "c", "d", "e") values ('it''s', (-5), null, true, 'ten') returning '$2' as "x"`);
    expect(inlineParameters({ sql: 'select $1', parameters: ['C:\\x'] })).toBe("select  E'C:\\\\x'"); // pg's escapeLiteral: E'…' with the backslash doubled
  });

  it('declines (undefined) what it cannot write safely: other values, NUL, comments, several statements, unread quoting, stray $', () => {
    const one = (value: unknown) => inlineParameters({ sql: 'select $1', parameters: [value] });
    for (const value of [10n, new Date(0), Number.NaN, Number.POSITIVE_INFINITY, Buffer.from('x'), { a: 1 }, undefined, 'a\u0000b']) expect(one(value)).toBeUndefined();
    for (const sql of ['select $1 -- c', 'select /* c */ $1', 'select $1; select 2', "select E'\\n', $1", 'select $2', 'select $0', 'select $tag$x$tag$', "select 'open"]) {
      expect(inlineParameters({ sql, parameters: ['v'] })).toBeUndefined();
    }
  });
});
