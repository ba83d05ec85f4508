import { MessageboxError } from './errors.js';
import { escapeControlCharacters, MAX_QUOTED_LENGTH, truncateText } from './text.js';

/** A value that survives `JSON.stringify` and `JSON.parse` unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue | undefined };

/**
 * Throws `MessageboxError('invalid_payload')` naming the first path that JSON
 * cannot carry faithfully: `undefined` (outside an object property), functions,
 * symbols, bigints, non-finite numbers, cycles, and objects JSON would
 * silently turn into `{}` (Map, Set, Error, typed arrays…). Objects with a `toJSON`
 * method (like `Date`) are accepted, as `JSON.stringify` uses it.
 */
const lossy: Array<abstract new (...args: never[]) => object> = [Map, Set, WeakMap, WeakSet, RegExp, Error, Promise, ArrayBuffer];

export function assertJsonValue(value: unknown, what = 'payload'): asserts value is JsonValue {
  const seen = new Set<object>();
  const visit = (v: unknown, path: string, inObject: boolean): void => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(v)) fail(path, `the number ${v}`);
        return;
      case 'undefined':
        if (!inObject) fail(path, 'undefined');
        return;
      case 'bigint':
        fail(path, 'a bigint (convert it to a string)');
        return;
      case 'function':
      case 'symbol':
        fail(path, `a ${typeof v}`);
        return;
    }
    if (v === null) return;
    const obj = v as object;
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return;
    if (lossy.some((type) => obj instanceof type) || ArrayBuffer.isView(obj)) fail(path, `a ${obj.constructor.name}`);
    if (seen.has(obj)) fail(path, 'a circular reference');
    seen.add(obj);
    if (Array.isArray(obj)) obj.forEach((item, i) => visit(item, `${path}[${i}]`, false));
    else for (const [k, item] of Object.entries(obj)) visit(item, `${path}.${k}`, true);
    seen.delete(obj);
  };
  const fail = (path: string, found: string): never => {
    throw new MessageboxError('invalid_payload', `${what} cannot be serialised to JSON: ${truncateText(escapeControlCharacters(path), MAX_QUOTED_LENGTH)} is ${found}`);
  };
  visit(value, '$', false);
}
