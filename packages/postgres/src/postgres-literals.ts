import pg from 'pg';

/**
 * `compiled`'s SQL with each `$n` placeholder replaced by its parameter
 * written as a literal: strings through pg's `escapeLiteral` (`'…'`, quotes
 * doubled, or `E'…'` with backslashes doubled: right whatever
 * `standard_conforming_strings` says), finite numbers as written by
 * `String`, booleans, `null`. Undefined, so that the caller runs the
 * statement with its parameters instead, when a parameter is anything else
 * (a bigint, a `Date`, a buffer, a non-finite number), a string holds a NUL
 * (the query text could not carry it), or the SQL holds something this
 * writer does not read (a dollar-quoted or `E''` string, a comment, a `$`
 * that is not a placeholder of a parameter).
 *
 * @example
 * inlineParameters({ sql: 'insert into t (a, b) values ($1, $2)', parameters: ["it's", 2] }); // "insert into t (a, b) values ('it''s', 2)"
 */
export function inlineParameters(compiled: { sql: string; parameters: readonly unknown[] }): string | undefined {
  const literals: string[] = [];
  for (const parameter of compiled.parameters) {
    const literal = literalOf(parameter);
    if (literal === undefined) return undefined;
    literals.push(literal);
  }
  const text = compiled.sql;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      if (c === "'" && /[eEuUbBxXnN]/.test(text[i - 1] ?? '') && !/[\w$]/.test(text[i - 2] ?? '')) return undefined; // E'…', U&'…', B'…': not read here
      const end = text.indexOf(c, i + 1);
      if (end < 0) return undefined;
      i = end; // a doubled quote closes and reopens: scanning on from here reads it right
    } else if (c === '$') {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
      const n = Number(text.slice(i + 1, end));
      if (end === i + 1 || !(n >= 1 && n <= literals.length)) return undefined;
      out += text.slice(from, i) + literals[n - 1]!;
      from = end;
      i = end - 1;
    } else if ((c === '-' && text[i + 1] === '-') || (c === '/' && text[i + 1] === '*') || c === ';') {
      return undefined;
    }
  }
  return out + text.slice(from);
}

function literalOf(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return value.includes('\u0000') ? undefined : pg.escapeLiteral(value);
    case 'number':
      // In parentheses when negative: `- $1` must not become the comment `--1`.
      return Number.isFinite(value) ? (value < 0 ? `(${value})` : String(value)) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return undefined;
  }
}
