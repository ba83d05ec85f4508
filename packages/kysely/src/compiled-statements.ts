import { CompiledQuery, createQueryId, type Compilable, type QueryResult, type RootOperationNode } from 'kysely';
import { expectAnswer } from './committed-transaction.js';
import type { AnyDb } from './dialect.js';
import { shapeOf, SLOT, withSlots } from './statement-shape.js';

/**
 * Inputs with more values than this are built per call: such a statement
 * (hundreds of rows) is rare and large, and building it costs little per row.
 */
const MAX_VALUES = 2_000;

interface Template {
  sql: string;
  query: RootOperationNode;
  /** The compiled parameters, with the input's values still to be put at `slots`. */
  parameters: readonly unknown[];
  /** Pairs (position in `parameters`, index of the input's value). */
  slots: readonly number[];
  /** The `name` given to `execute`, until `onCompiled` was told about the text (when it first runs). */
  unannounced?: string;
}

/** Options of a {@link StatementCache}. */
export interface StatementCacheOptions {
  /** Most shapes kept compiled; the least recently used goes first. Default 128. */
  maxShapes?: number;
  /**
   * Told once about each statement text the cache will run many times, when it first runs it (see
   * the dialect's `reusedStatement`): `key` is the `name` given to
   * `execute`, `parameters` how many values it carries.
   */
  onCompiled?: (statement: { sql: string; key: string; parameters: number }) => void;
}

/**
 * Statements compiled once per shape and run with fresh parameters.
 *
 * `execute(conn, name, input, build)` runs the statement `build(db, input)`
 * makes. The first time a `name` meets an input of a new shape (the same
 * nesting of arrays and plain objects, the same keys, the same
 * {@link constantFragment}s; every string, number and bigint counts as a
 * value), `build` runs once with placeholders in place of those values and
 * the statement is compiled on `db` (the store's Kysely instance, with its
 * plugins); every later call with that shape only swaps in the values. So
 * `build` must depend on the input's shape and never on its values (group
 * values before, and pass the groups), and `name` must say everything else it
 * depends on. An input holding anything else (a function, a `Date`, a fresh
 * `sql` fragment), with more than 2,000 values, or whose values the compiled
 * statement does not carry as parameters (inlined, transformed by a plugin),
 * is built on `conn` per call, as without a cache. Bounded (128 shapes by
 * default): the least recently used shape goes first.
 *
 * @example
 * const statements = new StatementCache(db);
 * await statements.execute(tx, 'inbox.markProcessed', { token, source, id }, (db, c) =>
 *   db.updateTable('inbox').set({ status: 'processed' }).where('claim_token', '=', c.token).where('source', '=', c.source).where('id', '=', c.id));
 */
export class StatementCache {
  readonly #db: AnyDb;
  readonly #maxShapes: number;
  readonly #onCompiled: StatementCacheOptions['onCompiled'];
  readonly #templates = new Map<string, Template | null>();

  constructor(db: AnyDb, options: StatementCacheOptions = {}) {
    this.#db = db;
    this.#maxShapes = options.maxShapes ?? 128;
    this.#onCompiled = options.onCompiled;
  }

  /** How many shapes are compiled (tests and diagnostics). */
  get size(): number {
    return this.#templates.size;
  }

  async execute<I, R>(conn: AnyDb, name: string, input: I, build: (db: AnyDb, input: I) => Compilable<R>): Promise<QueryResult<R>> {
    const compiled = this.#fromTemplate(name, input, build, true);
    if (compiled === undefined) return conn.executeQuery(build(conn, input));
    expectAnswer(conn, compiled.queryId);
    return conn.executeQuery(compiled);
  }

  /**
   * The statement {@link execute} would run, compiled (once per shape, as
   * there) on the cache's Kysely instance and not run: for a caller that
   * sends its text later (Postgres writes deferred outbox rows with COMMIT).
   */
  compile<I, R>(name: string, input: I, build: (db: AnyDb, input: I) => Compilable<R>): CompiledQuery<R> {
    return this.#fromTemplate(name, input, build, false) ?? build(this.#db, input).compile();
  }

  /**
   * The statement for `input` from its shape's template (compiled now on
   * first use); undefined when it must be built per call. `runs`: it is about
   * to run here, so `onCompiled` hears of its text now if it has not yet.
   */
  #fromTemplate<I, R>(name: string, input: I, build: (db: AnyDb, input: I) => Compilable<R>, runs: boolean): CompiledQuery<R> | undefined {
    const values: unknown[] = [];
    const shape = shapeOf(input, values);
    if (shape === undefined || values.length > MAX_VALUES) return undefined;
    const key = `${name}\u0001${shape}`;
    let template = this.#templates.get(key);
    if (template === undefined) template = this.#compile(key, input, build);
    else {
      this.#templates.delete(key);
      this.#templates.set(key, template);
    }
    if (template === null) return undefined;
    if (runs && template.unannounced !== undefined) {
      this.#onCompiled?.({ sql: template.sql, key: template.unannounced, parameters: template.parameters.length });
      template.unannounced = undefined;
    }
    const parameters = template.parameters.slice();
    const slots = template.slots;
    for (let i = 0; i < slots.length; i += 2) parameters[slots[i]!] = values[slots[i + 1]!];
    return { sql: template.sql, query: template.query, parameters, queryId: createQueryId() };
  }

  #compile<I>(key: string, input: I, build: (db: AnyDb, input: I) => Compilable<unknown>): Template | null {
    const counter = { next: 0 };
    const compiled = build(this.#db, withSlots(input, counter) as I).compile();
    let template: Template | null = null;
    if (!compiled.sql.includes(SLOT)) {
      const slots: number[] = [];
      let foreign = false;
      compiled.parameters.forEach((parameter, position) => {
        if (typeof parameter !== 'string' || !parameter.includes(SLOT)) return;
        const index = parameter.startsWith(SLOT) ? Number(parameter.slice(SLOT.length)) : NaN;
        if (Number.isInteger(index) && index >= 0 && index < counter.next) slots.push(position, index);
        else foreign = true;
      });
      if (!foreign) {
        const parameters = compiled.parameters.slice();
        for (let i = 0; i < slots.length; i += 2) parameters[slots[i]!] = null;
        template = { sql: compiled.sql, query: compiled.query, parameters, slots, unannounced: key.slice(0, key.indexOf('\u0001')) };
      }
    }
    if (this.#templates.size >= this.#maxShapes) this.#templates.delete(this.#templates.keys().next().value!);
    this.#templates.set(key, template);
    return template;
  }
}

/**
 * A statement of a store request that a dialect may run compiled once per
 * shape: `of(input)` rebuilds the request from `input` (for
 * {@link StatementCache.execute}); `key` names the store operation.
 */
export interface Reuse<Req> {
  statements: StatementCache;
  key: string;
  input: unknown;
  of(input: never): Req;
}

/**
 * Runs `build(db, request)`: compiled once per shape through `reuse` when the
 * store passed one, else built on `conn` now. `name` says what else the
 * statement depends on (the dialect function and its options).
 *
 * @example
 * const { rows } = await executeRequest(db, 'postgres.claim', claim, claim.reuse, (db, c) => db.updateTable(c.table).set(c.set)…);
 */
export function executeRequest<Req, R>(conn: AnyDb, name: string, request: Req, reuse: Reuse<Req> | undefined, build: (db: AnyDb, request: Req) => Compilable<R>): Promise<QueryResult<R>> {
  if (!reuse) return conn.executeQuery(build(conn, request));
  const of = reuse.of as (input: unknown) => Req;
  return reuse.statements.execute(conn, `${name}\u0002${reuse.key}`, reuse.input, (db, input) => build(db, of(input)));
}

/**
 * The statement {@link executeRequest} would run with `reuse`, compiled and
 * not run (see {@link StatementCache.compile}).
 */
export function compileRequest<Req, R>(name: string, reuse: Reuse<Req>, build: (db: AnyDb, request: Req) => Compilable<R>): CompiledQuery<R> {
  const of = reuse.of as (input: unknown) => Req;
  return reuse.statements.compile(`${name}\u0002${reuse.key}`, reuse.input, (db, input) => build(db, of(input)));
}

/**
 * Runs a statement a dialect wrote itself (`text` with `$n` placeholders,
 * its `parameters`) on `conn`, seen by the store transaction's watcher like
 * any other statement: if it fails and the caller catches the error, COMMIT
 * is still checked.
 *
 * @example
 * const { rows } = await executeText(tx, 'insert into t (a) select * from unnest($1::text[])', [['x', 'y']]);
 */
export function executeText<R>(conn: AnyDb, text: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
  const compiled = CompiledQuery.raw(text, [...parameters]) as CompiledQuery<R>;
  expectAnswer(conn, compiled.queryId);
  return conn.executeQuery(compiled);
}
