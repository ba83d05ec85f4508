// The helper docs/recipes/drizzle.md shows, word for word: messagebox's statements through a Drizzle transaction.
import { sql, type SQL } from 'drizzle-orm';
import type { PgQuery, PgQueryResult } from '@messagebox/postgres';

/** Runs messagebox's statements (`$1`…`$n` placeholders) with `tx.execute`, inside the Drizzle transaction `tx`. */
export function drizzleQuery(tx: { execute(query: SQL): Promise<unknown> }): PgQuery {
  return async (text, values) => {
    const parts = text.split(/\$(\d+)/); // even entries are SQL text, odd ones parameter numbers
    const query = sql.join(parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql.param(values[Number(part) - 1]))));
    return (await tx.execute(query)) as PgQueryResult;
  };
}
