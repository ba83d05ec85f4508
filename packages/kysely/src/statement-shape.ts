/**
 * The shape of a statement's input: what a {@link StatementCache} compiles
 * once for, and the input's values, in the order a walk meets them.
 */

/** Marks a parameter while a statement is compiled; never a value a caller could pass. */
export const SLOT = `\u0000messagebox-slot-${Math.random().toString(36).slice(2)}:`;

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

/** True for a fragment marked with {@link constantFragment}: the same SQL at every call. */
export function isConstantFragment(value: unknown): boolean {
  return typeof value === 'object' && value !== null && constants.has(value);
}

/** The shape of `value` as a string, pushing its values to `values` in walk order; undefined when it holds something a shape cannot describe. */
export function shapeOf(value: unknown, values: unknown[]): string | undefined {
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
export function withSlots(value: unknown, counter: { next: number }): unknown {
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

