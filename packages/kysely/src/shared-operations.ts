import type { Claim, ClaimOptions, PurgeOptions, RecordFilter, RetryOptions, StoreOverviewOptions } from '@messagebox/core';
import { sql, type RawBuilder } from 'kysely';
import { constantFragment } from './statement-shape.js';
import type { AnyDb, AnySelect, ClaimStatement } from './dialect.js';
import { claimKeyIn, groupClaims, keysIn, ownedBy, ownedByGroups, recordFilter } from './filters.js';
import { chunks, type StoreContext } from './store-context.js';
import { integer } from './time.js';
import { countRecords, overviewOf } from './overview-queries.js';
import { firstOfItsKey } from './key-order.js';
import type { MessageboxDialect } from './dialect.js';

/** The status names and columns that differ between the outbox and the inbox tables. */
export interface TableShape {
  table: string;
  waiting: string;
  finished: string;
  /** Column set when a row finishes (`sent_at`, `processed_at`). */
  finishedAt: string;
  /**
   * Column a row starts waiting from (`created_at`, `received_at`): what
   * `stats().oldestPendingAt` reads, `before` compares, and lists order by.
   */
  waitingSince: string;
  /**
   * Columns besides `id` that identify a row, read from claims and keys by
   * the same name: `['source']` in the inbox, whose key is `(source, id)`.
   * Default none (the outbox: `id`).
   */
  scope?: readonly string[];
}

/** The columns a row's key is made of: `id` and the shape's scope. */
export function keyColumns(shape: TableShape): string[] {
  return [...(shape.scope ?? []), 'id'];
}

/** What a claim statement is made of, times included (with an injected clock they change with every call). */
interface ClaimInput {
  limit: number;
  token: string;
  now: RawBuilder<number>;
  lease: RawBuilder<number>;
  ids: string[] | undefined;
  types: string[] | undefined;
  /** Whether a dead row keeps the later rows of its key from being claimed (`deadKey: 'block'`). */
  deadBlocks: boolean;
}

const attemptsPlusOne = constantFragment(sql`attempts + 1`);

/** The claim of due, unleased rows (among `ids`, of `types`, when given), made of its input only, so it compiles once per shape. */
function claimStatementOf(dialect: MessageboxDialect, shape: TableShape, input: ClaimInput): ClaimStatement {
  return {
    table: shape.table,
    limit: input.limit,
    candidates: (conn) =>
      conn
        .selectFrom(shape.table)
        .select(keyColumns(shape))
        .where('status', '=', sql.lit(shape.waiting))
        .where('available_at', '<=', input.now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', input.now)]))
        .$if(input.ids !== undefined, (qb) => qb.where('id', 'in', input.ids!))
        .$if(input.types !== undefined, (qb) => qb.where('type', 'in', input.types!))
        .$if(dialect.keyOrderMigration !== undefined, (qb) => qb.where((eb) => firstOfItsKey(eb, dialect, { table: shape.table, waiting: shape.waiting, scope: shape.scope ?? [] }, input.deadBlocks))) as AnySelect,
    // Due again when the lease ends: a leased row leaves the due-index range `available_at <= now`, so later claims do not walk it.
    set: { claim_token: input.token, lease_until: input.lease, available_at: input.lease, attempts: attemptsPlusOne },
    keyIn: claimKeyIn(shape.scope),
  };
}

/** Claims due rows through the dialect (one statement where it can), compiled once per shape of the options. */
export function claimRows(context: StoreContext, shape: TableShape, opts: ClaimOptions & { ids?: readonly string[]; types?: readonly string[] }): Promise<Record<string, unknown>[]> {
  const { time, statements } = context;
  const input: ClaimInput = {
    limit: integer(opts.limit, 'limit'),
    token: opts.token,
    now: time.now(),
    lease: time.plus(opts.leaseMs),
    ids: opts.ids && [...opts.ids],
    types: opts.types && [...opts.types],
    deadBlocks: opts.deadKey !== 'skip',
  };
  const of = (i: ClaimInput) => claimStatementOf(context.dialect, shape, i);
  return context.dialect.claim(context.db, { ...of(input), reuse: { statements, key: `${shape.table}.claim`, input, of } });
}

/**
 * Fenced update of one claimed row (still waiting, still holding the claim's
 * token, same key) run on `conn`, compiled once per shape of `set`; true when
 * it changed the row. `name` names the operation.
 */
export async function updateClaimed(context: StoreContext, conn: AnyDb, shape: TableShape, name: string, claim: Claim, set: Record<string, unknown>): Promise<boolean> {
  const input = { groups: groupClaims([claim], shape.scope), set };
  const result = await context.statements.execute(conn, name, input, (db, i) =>
    db
      .updateTable(shape.table)
      .set(i.set)
      .where((eb) => ownedByGroups(eb, i.groups, shape.waiting, shape.scope)),
  );
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** Fenced: makes the row due after `delayMs`, records the error, clears the lease. */
export function scheduleRetry(context: StoreContext, shape: TableShape, claim: Claim, options: RetryOptions): Promise<boolean> {
  const set = { available_at: context.time.plus(options.delayMs), last_error: options.error, lease_until: null, claim_token: null };
  return updateClaimed(context, context.db, shape, 'scheduleRetry', claim, set);
}

/** Fenced: moves the row to `dead`, records the error, clears the lease. */
export function markDead(context: StoreContext, shape: TableShape, claim: Claim, options: { error: string }): Promise<boolean> {
  return updateClaimed(context, context.db, shape, 'markDead', claim, { status: 'dead', last_error: options.error, lease_until: null, claim_token: null });
}

/**
 * Most claims one release statement carries. Each claim of its own token is
 * one more term of an OR: SQLite refuses an expression deeper than 1,000
 * ("Expression tree is too large"), which a give-back of an after-commit
 * overflow (one token per message) reached.
 */
const RELEASE_CHUNK = 250;

/** Fenced: clears the lease, gives back the attempt, makes the rows due now. One statement per 250 claims. */
export async function releaseClaims(context: StoreContext, shape: TableShape, claims: readonly Claim[]): Promise<number> {
  let released = 0;
  for (const chunk of chunks(claims, RELEASE_CHUNK)) released += await releaseChunk(context, shape, chunk);
  return released;
}

async function releaseChunk({ db, time }: StoreContext, shape: TableShape, claims: readonly Claim[]): Promise<number> {
  const result = await db
    .updateTable(shape.table)
    .where((eb) => ownedBy(eb, claims, shape.waiting, shape.scope))
    .set((eb) => ({
      attempts: eb.case().when('attempts', '>', 0).then(eb('attempts', '-', 1)).else(0).end(),
      available_at: eb.case().when('available_at', '>', time.now()).then(time.now()).else(eb.ref('available_at')).end(),
      lease_until: null,
      claim_token: null,
    }))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Counts by status, and the oldest waiting row. */
export async function countByStatus({ db }: StoreContext, shape: TableShape): Promise<{ count(status: string): number; oldestWaiting: Date | null }> {
  const counts = await db.selectFrom(shape.table).select(['status', (eb) => eb.fn.countAll().as('n')]).groupBy('status').execute();
  const oldest = await db
    .selectFrom(shape.table)
    .select((eb) => eb.fn.min(shape.waitingSince).as('t'))
    .where('status', '=', sql.lit(shape.waiting))
    .executeTakeFirst();
  const t = oldest?.t as number | string | null | undefined;
  return {
    count: (status) => Number(counts.find((c) => c.status === status)?.n ?? 0),
    oldestWaiting: t == null ? null : new Date(Number(t)),
  };
}

/** Rows matching `filter`, oldest first (then by id), at most `filter.limit` (default 100), mapped by `toRecord`. */
export async function listRecords<Row, R>({ db, dialect }: StoreContext, shape: TableShape, filter: RecordFilter<string>, toRecord: (row: Row) => R): Promise<R[]> {
  const rows = await db
    .selectFrom(shape.table)
    .selectAll()
    .where((eb) => recordFilter(eb, dialect, filter, shape.waitingSince, shape.scope))
    .orderBy(shape.waitingSince)
    .orderBy('id')
    .$call((qb) => (shape.scope ?? []).reduce((ordered, column) => ordered.orderBy(column), qb))
    .limit(integer(filter.limit ?? 100, 'limit'))
    .execute();
  return (rows as Row[]).map(toRecord);
}

/** One row by its key (`{ id }`, or `{ source, id }` in the inbox) mapped by `toRecord`, or `null` when there is none. */
export async function getRecord<Row, R>({ db }: StoreContext, shape: TableShape, key: Record<string, unknown>, toRecord: (row: Row) => R): Promise<R | null> {
  const row = await db
    .selectFrom(shape.table)
    .selectAll()
    .where((eb) => keysIn(eb, [key], shape.scope))
    .executeTakeFirst();
  return row ? toRecord(row as Row) : null;
}

/** Moves dead rows matching `filter` back to waiting, due now, with no attempts; returns how many. */
export async function replayDead(context: StoreContext, shape: TableShape, filter: Omit<RecordFilter<string>, 'status'>): Promise<number> {
  const { db, dialect, time } = context;
  const where = await replayTarget(db, shape, filter, (eb) => recordFilter(eb, dialect, { ...filter, status: 'dead', limit: undefined }, shape.waitingSince));
  const result = await db
    .updateTable(shape.table)
    .where(where)
    .where('status', '=', 'dead')
    .set({ status: shape.waiting, available_at: time.now(), attempts: 0, lease_until: null, claim_token: null, [shape.finishedAt]: null })
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * With a `limit`, replay picks its ids first (UPDATE … LIMIT is not portable);
 * without one, it updates every matching row in one statement.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function replayTarget(db: AnyDb, shape: TableShape, filter: { limit?: number }, where: (eb: any) => any): Promise<(eb: any) => any> {
  if (filter.limit === undefined) return where;
  const keys = await db.selectFrom(shape.table).select(keyColumns(shape)).where(where).orderBy(shape.waitingSince).orderBy('id').limit(integer(filter.limit, 'limit')).execute();
  return (eb) => keysIn(eb, keys, shape.scope);
}

/** Deletes at most `limit` finished rows older than `olderThanMs`: picks ids first (DELETE … LIMIT is not portable). */
export async function purgeFinished({ db, time }: StoreContext, shape: TableShape, options: PurgeOptions): Promise<number> {
  const keys = await db
    .selectFrom(shape.table)
    .select(keyColumns(shape))
    .where('status', '=', sql.lit(shape.finished))
    .where(shape.finishedAt, '<', time.plus(-options.olderThanMs))
    .limit(integer(options.limit, 'limit'))
    .execute();
  if (keys.length === 0) return 0;
  const result = await db
    .deleteFrom(shape.table)
    .where((eb) => keysIn(eb, keys, shape.scope))
    .where('status', '=', shape.finished)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The store members outbox and inbox implement the same way over their
 * table, given how a row becomes a record. Spread into each store.
 */
export function sharedStoreMembers<Row, R>(context: StoreContext, shape: TableShape, toRecord: (row: Row) => R) {
  return {
    scheduleRetry: (claim: Claim, options: RetryOptions) => scheduleRetry(context, shape, claim, options),
    markDead: (claim: Claim, options: { error: string }) => markDead(context, shape, claim, options),
    release: (claims: readonly Claim[]) => releaseClaims(context, shape, claims),
    list: (filter: RecordFilter<string> = {}) => listRecords(context, shape, filter, toRecord),
    count: (filter: RecordFilter<string> = {}) => countRecords(context, shape, filter),
    overview: (options: StoreOverviewOptions) => overviewOf(context, shape, options),
    get: (id: string) => getRecord(context, shape, { id }, toRecord),
    replay: (filter: Omit<RecordFilter<string>, 'status'>) => replayDead(context, shape, filter),
    purge: (options: PurgeOptions) => purgeFinished(context, shape, options),
  };
}
