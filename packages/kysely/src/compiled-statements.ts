import { createQueryId, type Compilable, type CompiledQuery, type QueryResult, type RootOperationNode } from 'kysely';
import { expectAnswer } from './committed-transaction.js';
import type { AnyDb } from './dialect.js';

/** Marks a parameter while a statement is compiled; never a value a caller could pass. */
const SLOT = `\u0000messagebox-slot-${Math.random().toString(36).slice(2)}:`;

const constants = new WeakMap<object, number>();
let nextConstant = 0;

/**
 * Marks `fragment` (an SQL fragment that never changes, e.g. the dialect's
 * `now()`) as part of a statement's shape: a {@link StatementCache} input may
 * hold it, and two inputs holding the same fragment object have the same
 * shape. Any other object in an input (a fresh `sql` fragment, a `Date`)
 * makes the statement be built per call.
 */
export function constantFragment<T extends object>(fragment: T): T {
  if (!constants.has(fragment)) constants.set(fragment, nextConstant++);
  return fragment;
}

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
  readonly #templates = new Map<string, Template | null>();

  constructor(db: AnyDb, options: { maxShapes?: number } = {}) {
    this.#db = db;
    this.#maxShapes = options.maxShapes ?? 128;
  }

  /** How many shapes are compiled (tests and diagnostics). */
  get size(): number {
    return this.#templates.size;
  }

  async execute<I, R>(conn: AnyDb, name: string, input: I, build: (db: AnyDb, input: I) => Compilable<R>): Promise<QueryResult<R>> {
    const values: unknown[] = [];
    const shape = shapeOf(input, values);
    if (shape === undefined || values.length > MAX_VALUES) return conn.executeQuery(build(conn, input));
    const key = `${name}\u0001${shape}`;
    let template = this.#templates.get(key);
    if (template === undefined) template = this.#compile(key, input, build);
    else {
      this.#templates.delete(key);
      this.#templates.set(key, template);
    }
    if (template === null) return conn.executeQuery(build(conn, input));
    const parameters = template.parameters.slice();
    const slots = template.slots;
    for (let i = 0; i < slots.length; i += 2) parameters[slots[i]!] = values[slots[i + 1]!];
    const compiled: CompiledQuery<R> = { sql: template.sql, query: template.query, parameters, queryId: createQueryId() };
    expectAnswer(conn, compiled.queryId);
    return conn.executeQuery(compiled);
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
        template = { sql: compiled.sql, query: compiled.query, parameters, slots };
      }
    }
    if (this.#templates.size >= this.#maxShapes) this.#templates.delete(this.#templates.keys().next().value!);
    this.#templates.set(key, template);
    return template;
  }
}

/** The shape of `value` as a string, pushing its values to `values` in walk order; undefined when it holds something a shape cannot describe. */
function shapeOf(value: unknown, values: unknown[]): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
      values.push(value);
      return '$';
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object': {
      if (value === null) return 'n';
      if (Array.isArray(value)) {
        // Rows of one shape (the usual case) make a short key, `[n*shape]`, and are compared, not described, after the first.
        if (value.length === 0) return '[]';
        const first = shapeOf(value[0], values);
        if (first === undefined) return undefined;
        let same = 1;
        for (; same < value.length; same++) {
          const mark = values.length;
          if (!sameShape(value[same], value[0], values)) {
            values.length = mark;
            break;
          }
        }
        if (same === value.length) return `[${value.length}*${first}]`;
        let out = `[${`${first},`.repeat(same)}`;
        for (let i = same; i < value.length; i++) {
          const inner = shapeOf(value[i], values);
          if (inner === undefined) return undefined;
          out += `${inner},`;
        }
        return `${out}]`;
      }
      const constant = constants.get(value);
      if (constant !== undefined) return `@${constant}`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return undefined;
      let out = '{';
      for (const field in value) {
        const inner = shapeOf((value as Record<string, unknown>)[field], values);
        if (inner === undefined) return undefined;
        out += `${fieldKey(field)}${inner},`;
      }
      return `${out}}`;
    }
    default:
      return undefined;
  }
}

const fieldKeys = new Map<string, string>();
/** A field's name as it appears in a shape (quoted, so no name can pass for shape syntax); remembered, names are few. */
function fieldKey(field: string): string {
  let key = fieldKeys.get(field);
  if (key === undefined) {
    key = `${JSON.stringify(field)}:`;
    if (fieldKeys.size < 1_000) fieldKeys.set(field, key);
  }
  return key;
}

/**
 * Whether `value` has the shape of `like` (whose shape {@link shapeOf} could
 * describe), pushing its values as {@link shapeOf} would; on false, some may
 * have been pushed already.
 */
function sameShape(value: unknown, like: unknown, values: unknown[]): boolean {
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'bigint') {
    const likeType = typeof like;
    if (likeType !== 'string' && likeType !== 'number' && likeType !== 'bigint') return false;
    values.push(value);
    return true;
  }
  if (typeof value !== 'object' || value === null || typeof like !== 'object' || like === null) return value === like;
  if (constants.has(value) || constants.has(like)) return value === like;
  if (Array.isArray(value)) {
    if (!Array.isArray(like) || like.length !== value.length) return false;
    for (let i = 0; i < value.length; i++) if (!sameShape(value[i], like[i], values)) return false;
    return true;
  }
  if (Array.isArray(like)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const likeFields = Object.keys(like);
  let i = 0;
  for (const field in value) {
    if (field !== likeFields[i++]) return false;
    if (!sameShape((value as Record<string, unknown>)[field], (like as Record<string, unknown>)[field], values)) return false;
  }
  return i === likeFields.length;
}

/** A copy of `value` (of a shape {@link shapeOf} describes) with each value replaced by its placeholder, numbered in walk order. */
function withSlots(value: unknown, counter: { next: number }): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
      return `${SLOT}${counter.next++}`;
    case 'object': {
      if (value === null || constants.has(value)) return value;
      if (Array.isArray(value)) return value.map((item) => withSlots(item, counter));
      const copy: Record<string, unknown> = {};
      for (const field in value) copy[field] = withSlots((value as Record<string, unknown>)[field], counter);
      return copy;
    }
    default:
      return value;
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
