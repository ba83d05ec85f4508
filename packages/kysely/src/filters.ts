import { MessageboxError, type Claim, type RecordCursor, type RecordFilter } from '@messagebox/core';
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { AnySelect, MessageboxDialect } from './dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Eb = ExpressionBuilder<any, any>;

export const never = sql<SqlBool>`1 = 0`;

/**
 * The conditions of a {@link RecordFilter}; `timeColumn` is what `before`
 * and `after` compare, and `scope` the key columns besides `id` that break
 * ties in list order (`after`).
 */
export function recordFilter(eb: Eb, dialect: MessageboxDialect, filter: RecordFilter<string>, timeColumn: string, scope: readonly string[] = []): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  // A literal status (statuses are lower-case words) lets SQLite and Postgres prove a partial index on it applies.
  if (filter.status !== undefined) conditions.push(eb('status', '=', /^[a-z]+$/.test(filter.status) ? sql.lit(filter.status) : filter.status));
  if (filter.type !== undefined) conditions.push(eb('type', '=', filter.type));
  if (filter.before !== undefined) conditions.push(eb(timeColumn, '<', filter.before.getTime()));
  if (filter.errorContains !== undefined) {
    conditions.push(eb.and([eb('last_error', 'is not', null), dialect.contains('last_error', filter.errorContains)]));
  }
  if (filter.source !== undefined) conditions.push(eb('source', '=', filter.source));
  if (filter.ids !== undefined) conditions.push(filter.ids.length ? eb('id', 'in', [...filter.ids]) : never);
  if (filter.after !== undefined) conditions.push(afterCursor(eb, filter.after, timeColumn, scope));
  return eb.and(conditions);
}

/**
 * Keyset paging: rows after `cursor` in `(timeColumn, id, ...scope)` order,
 * written as `time >= t AND (time > t OR id > i OR (id = i AND source > s))`
 * so the leading range is an index condition on every database (no row values).
 */
function afterCursor(eb: Eb, cursor: RecordCursor, timeColumn: string, scope: readonly string[]): Expression<SqlBool> {
  const at = cursor.at.getTime();
  const values = cursor as unknown as Record<string, unknown>;
  const ties: Expression<SqlBool>[] = [eb(timeColumn, '>', at), eb('id', '>', cursor.id)];
  if (scope.length > 0) ties.push(eb.and([eb('id', '=', cursor.id), ...scope.slice(0, -1).map((c) => eb(c, '=', scopeValue(values, c))), eb(scope.at(-1)!, '>', scopeValue(values, scope.at(-1)!))]));
  return eb.and([eb(timeColumn, '>=', at), eb.or(ties)]);
}

/** Keys grouped by the values of their `scope` columns (`values`), each group with its ids: what {@link keysInGroups} matches. */
export interface KeyGroup {
  values: unknown[];
  ids: string[];
}

/** Claims grouped by token, each with its keys grouped as in {@link KeyGroup}: what {@link ownedByGroups} matches. */
export interface ClaimGroup {
  token: string;
  keys: KeyGroup[];
}

/** Groups `keys` by the values of their `scope` columns (one group when there are none), in first-seen order. */
export function groupKeys(keys: readonly Record<string, unknown>[], scope: readonly string[] = []): KeyGroup[] {
  if (scope.length === 0) return keys.length ? [{ values: [], ids: keys.map((k) => k.id as string) }] : [];
  const groups = new Map<string, KeyGroup>();
  for (const key of keys) {
    const values = scope.map((column) => scopeValue(key, column));
    const group = JSON.stringify(values);
    const found = groups.get(group);
    if (found) found.ids.push(key.id as string);
    else groups.set(group, { values, ids: [key.id as string] });
  }
  return [...groups.values()];
}

/** Groups `claims` by token, their keys by {@link groupKeys}, in first-seen order. */
export function groupClaims(claims: readonly Claim[], scope: readonly string[] = []): ClaimGroup[] {
  const byToken = new Map<string, Claim[]>();
  for (const claim of claims) {
    const same = byToken.get(claim.token);
    if (same) same.push(claim);
    else byToken.set(claim.token, [claim]);
  }
  return [...byToken].map(([token, held]) => ({ token, keys: groupKeys(held as unknown as Record<string, unknown>[], scope) }));
}

/**
 * Rows whose key is one of `keys`: `id IN (…)` per distinct value of the
 * `scope` columns (the columns besides `id` that identify a row, e.g.
 * `['source']` in the inbox), so `(A, x)` never matches `(B, x)`. Portable
 * (no row values) and served by the primary key.
 */
export function keysIn(eb: Eb, keys: readonly Record<string, unknown>[], scope: readonly string[] = []): Expression<SqlBool> {
  return keysInGroups(eb, groupKeys(keys, scope), scope);
}

/** {@link keysIn} of keys already grouped; the statement depends on the groups' sizes only, not on their values. */
export function keysInGroups(eb: Eb, groups: readonly KeyGroup[], scope: readonly string[] = []): Expression<SqlBool> {
  if (groups.length === 0) return never;
  if (scope.length === 0) return groups.length === 1 ? eb('id', 'in', groups[0]!.ids) : eb.or(groups.map(({ ids }) => eb('id', 'in', ids)));
  return eb.or(groups.map(({ values, ids }) => eb.and([...scope.map((column, i) => eb(column, '=', values[i])), eb('id', 'in', ids)])));
}

/** Rows still owned by one of `claims`: waiting status, the same token and the same key (`id` and the `scope` columns). */
export function ownedBy(eb: Eb, claims: readonly Claim[], waitingStatus: string, scope: readonly string[] = []): Expression<SqlBool> {
  return ownedByGroups(eb, groupClaims(claims, scope), waitingStatus, scope);
}

/** {@link ownedBy} of claims already grouped; the statement depends on the groups' sizes only, not on their values. */
export function ownedByGroups(eb: Eb, groups: readonly ClaimGroup[], waitingStatus: string, scope: readonly string[] = []): Expression<SqlBool> {
  if (groups.length === 0) return never;
  const owned = groups.map(({ token, keys }) => eb.and([eb('claim_token', '=', token), keysInGroups(eb, keys, scope)]));
  return eb.and([eb('status', '=', waitingStatus), eb.or(owned)]);
}

/**
 * The {@link ClaimStatement.keyIn} of a table whose key is `id` plus `scope`:
 * `id IN (subquery)`, `(source, id) IN (subquery)` (row values: Postgres,
 * SQLite, MySQL), or {@link keysIn} for rows already read.
 */
export function claimKeyIn(scope: readonly string[] = []) {
  return (candidates: AnySelect | readonly Record<string, unknown>[]) =>
    (eb: Eb): Expression<SqlBool> => {
      if (Array.isArray(candidates)) return keysIn(eb, candidates, scope);
      const subquery = candidates as AnySelect;
      if (scope.length === 0) return eb('id', 'in', subquery);
      return eb(eb.refTuple(...([...scope, 'id'] as [string, string])), 'in', subquery as never);
    };
}

function scopeValue(key: Record<string, unknown>, column: string): unknown {
  const value = key[column];
  if (typeof value !== 'string') {
    throw new MessageboxError('invalid_options', `a claim or key of this table needs \`${column}\` as well as the id (id ${String(key.id)})`);
  }
  return value;
}
