import type { Claim, RecordFilter } from '@messagebox/core';
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { MessageboxDialect } from './dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Eb = ExpressionBuilder<any, any>;

export const never = sql<SqlBool>`1 = 0`;

/** The conditions of a {@link RecordFilter}; `timeColumn` is what `before` compares. */
export function recordFilter(eb: Eb, dialect: MessageboxDialect, filter: RecordFilter<string>, timeColumn: string): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  if (filter.status !== undefined) conditions.push(eb('status', '=', filter.status));
  if (filter.type !== undefined) conditions.push(eb('type', '=', filter.type));
  if (filter.before !== undefined) conditions.push(eb(timeColumn, '<', filter.before.getTime()));
  if (filter.errorContains !== undefined) {
    conditions.push(eb.and([eb('last_error', 'is not', null), dialect.contains('last_error', filter.errorContains)]));
  }
  if (filter.ids !== undefined) conditions.push(filter.ids.length ? eb('id', 'in', [...filter.ids]) : never);
  return eb.and(conditions);
}

/** Rows still owned by one of `claims`: waiting status and the same token. */
export function ownedBy(eb: Eb, claims: readonly Claim[], waitingStatus: string): Expression<SqlBool> {
  if (claims.length === 0) return never;
  const byToken = new Map<string, string[]>();
  for (const claim of claims) {
    const ids = byToken.get(claim.token);
    if (ids) ids.push(claim.id);
    else byToken.set(claim.token, [claim.id]);
  }
  const owned = [...byToken].map(([token, ids]) => eb.and([eb('claim_token', '=', token), eb('id', 'in', ids)]));
  return eb.and([eb('status', '=', waitingStatus), eb.or(owned)]);
}
