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
  // The path is kept as its parts and written out only for the error: a valid payload costs no string building.
  const path: Array<string | number> = [];
  const visit = (v: unknown, inObject: boolean): void => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(v)) fail(`the number ${v}`);
        return;
      case 'undefined':
        if (!inObject) fail('undefined');
        return;
      case 'bigint':
        fail('a bigint (convert it to a string)');
        return;
      case 'function':
      case 'symbol':
        fail(`a ${typeof v}`);
        return;
    }
    if (v === null) return;
    const obj = v as object;
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return;
    const isArray = Array.isArray(obj);
    if (!isArray && Object.getPrototypeOf(obj) !== Object.prototype && (lossy.some((type) => obj instanceof type) || ArrayBuffer.isView(obj))) {
      fail(`a ${obj.constructor.name}`);
    }
    if (seen.has(obj)) fail('a circular reference');
    seen.add(obj);
    if (isArray) {
      for (let i = 0; i < obj.length; i++) {
        if (!(i in obj)) continue; // a hole, as forEach skips it
        path.push(i);
        visit(obj[i], false);
        path.pop();
      }
    } else {
      for (const k of Object.keys(obj)) {
        path.push(k);
        visit((obj as Record<string, unknown>)[k], true);
        path.pop();
      }
    }
    seen.delete(obj);
  };
  const fail = (found: string): never => {
    const written = '$' + path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('');
    throw new MessageboxError('invalid_payload', `${what} cannot be serialised to JSON: ${truncateText(escapeControlCharacters(written), MAX_QUOTED_LENGTH)} is ${found}`);
  };
  visit(value, false);
}
