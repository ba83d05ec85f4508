import type { JsonValue } from '../json.js';

type JsonPrimitive = string | number | boolean | null;

/**
 * The shape a JSON-compatible `T` must have: every part JSON cannot carry
 * faithfully (functions, bigints, symbols, Map, Set, RegExp, Error, Promise,
 * binary buffers) is `never`, the rest is left open. A `T` is JSON-compatible
 * when it is assignable to `JsonCompatible<T>`; `outbox.add` and `payload<T>()`
 * check payloads this way, so the compiler names the offending property.
 * Unlike `JsonValue` (an index signature) it accepts types declared as
 * `interface`. Objects with `toJSON` (like `Date`) are accepted, as
 * `JSON.stringify` uses it (the receiver gets the string).
 *
 * @example
 * interface Payment { id: string; amount: number; paidAt?: Date }
 * type Ok = Payment extends JsonCompatible<Payment> ? true : false;   // true
 * type Bad = JsonCompatible<{ total: bigint }>;                       // { total: never }
 */
export type JsonCompatible<T> = T extends JsonPrimitive | undefined
  ? JsonPrimitive | undefined
  : T extends bigint | symbol | ((...args: never[]) => unknown)
    ? never
    : T extends { toJSON(): unknown }
      ? unknown
      : T extends JsonValue
        ? unknown
      : T extends ReadonlyMap<unknown, unknown> | ReadonlySet<unknown> | WeakMap<object, unknown> | WeakSet<object> | RegExp | Error | Promise<unknown> | ArrayBuffer | ArrayBufferView
        ? never
        : T extends object
          ? { [K in keyof T]: K extends symbol ? never : JsonCompatible<T[K]> }
          : never;
