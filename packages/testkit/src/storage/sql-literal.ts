/**
 * A bound parameter written as a SQL literal, to inline a logged query's
 * parameters into the statement given to `EXPLAIN`.
 *
 * @example
 * const inlined = query.sql.replace(/\?/g, () => sqlLiteral(parameters.shift()));
 */
export function sqlLiteral(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}
