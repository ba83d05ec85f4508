import type { StandardSchemaV1 } from '@standard-schema/spec';
import { MessageboxError } from '../errors.js';
import type { JsonCompatible } from './json-compatible.js';

/** Message type name → payload type. */
export type MessageMap = { [type: string]: unknown };

/**
 * The map of an untyped outbox or inbox (the default): any type name, any
 * JSON payload. `any`, so that a typed outbox or inbox goes wherever an
 * untyped one is expected (`Outbox<any>`).
 */
export type UntypedMessages = any;

/** An entry of a catalog that declares only the payload type, checked by the compiler and not at run time. */
export interface PayloadType<P> {
  readonly kind: 'messagebox.payload';
  /** Never set: carries `P` for the compiler. */
  readonly '~payload'?: P;
}

/** What a catalog entry may be: a Standard Schema (zod, valibot, arktype…) or `payload<P>()`. */
export type CatalogEntry = StandardSchemaV1 | PayloadType<any>;

/** Payload a sender gives per type: the schema's input, or the declared type. */
export type CatalogInputs<D> = { [K in keyof D & string]: EntryType<D[K], 'input'> };
/** Payload a handler gets per type: the schema's output, or the declared type. */
export type CatalogOutputs<D> = { [K in keyof D & string]: EntryType<D[K], 'output'> };

/**
 * The payload type of one entry. Reads the schema's `~standard.types` by
 * inference rather than checking the entry against `StandardSchemaV1`: that
 * check is slow enough on deep schema types (arktype's) to hit the compiler's
 * depth limit inside generic handler signatures.
 */
type EntryType<E, Side extends 'input' | 'output'> = E extends PayloadType<infer P>
  ? P
  : E extends { readonly '~standard': { readonly types?: infer Types } }
    ? NonNullable<Types> extends { readonly [S in Side]: infer P } ? P : unknown
    : never;

/**
 * The message types a service sends or receives, declared once: give it to
 * `createOutbox({ catalog })` and `createInbox({ catalog })` and the type
 * names autocomplete, a misspelled or unconfigured type is a compile error,
 * and handlers get their payload type without a cast. Entries with a schema
 * validate payloads at `add` and at the inbox.
 */
export interface MessageCatalog<In extends MessageMap = MessageMap, Out extends MessageMap = In> {
  /** Never set: carries the payload types for the compiler. */
  readonly '~messages'?: { input: In; output: Out };
  /** Every declared type, in declaration order. */
  readonly types: readonly (keyof In & string)[];
  /** True when `type` is declared. */
  has(type: string): boolean;
  /** The schema of `type`, or undefined when it has none (or is not declared). */
  schemaOf(type: string): StandardSchemaV1 | undefined;
}

/** Any catalog (for options and constraints). */
export type AnyMessageCatalog = MessageCatalog<any, any>;
/** Payload a sender gives, per type, of a catalog. */
export type InputsOf<C> = C extends { readonly '~messages'?: { input: infer In } } ? In : never;
/** Payload a handler gets, per type, of a catalog. */
export type OutputsOf<C> = C extends { readonly '~messages'?: { output: infer Out } } ? Out : never;

type NotJson = [error: 'messagebox: this payload type cannot travel as JSON (a function, bigint, symbol, Map, Set… somewhere in it)'];

/**
 * Declares a payload type without a schema: checked by the compiler only.
 * Interfaces are fine; a type JSON cannot carry (a function, a bigint…) is a
 * compile error here.
 *
 * @example
 * interface PaymentCreated { id: string; amount: number }
 * defineMessages({ 'payment.created': payload<PaymentCreated>() });
 */
export function payload<P>(..._check: [P] extends [JsonCompatible<P>] ? [] : NotJson): PayloadType<P> {
  return PAYLOAD_TYPE as PayloadType<P>;
}

const PAYLOAD_TYPE: PayloadType<never> = Object.freeze({ kind: 'messagebox.payload' });

/**
 * Declares the message types, each with a Standard Schema (zod, valibot,
 * arktype… none is a dependency of messagebox) or with `payload<P>()` for a
 * type checked only by the compiler. Throws `MessageboxError('invalid_options')`
 * for an entry that is neither.
 *
 * @example
 * import { z } from 'zod';
 * export const messages = defineMessages({
 *   'order.created': z.object({ id: z.string(), total: z.number().positive() }),
 *   'payment.created': payload<PaymentCreated>(),
 * });
 * const outbox = createOutbox({ store, source: 'shop', catalog: messages })
 *   .configure('order.created', { transport });
 * await outbox.add(tx, { type: 'order.created', payload: { id: 'o-1', total: 12 } });
 */
export function defineMessages<const D extends Record<string, CatalogEntry>>(definitions: D): MessageCatalog<CatalogInputs<D>, CatalogOutputs<D>> {
  if (definitions === null || typeof definitions !== 'object') {
    throw new MessageboxError('invalid_options', 'defineMessages() needs an object of message type → schema or payload<T>()');
  }
  const schemas = new Map<string, StandardSchemaV1 | undefined>();
  for (const [type, entry] of Object.entries(definitions)) {
    if (isStandardSchema(entry)) schemas.set(type, entry);
    else if ((entry as PayloadType<unknown> | undefined)?.kind === PAYLOAD_TYPE.kind) schemas.set(type, undefined);
    else {
      throw new MessageboxError(
        'invalid_options',
        `defineMessages(): "${type}" must be a Standard Schema (zod, valibot, arktype…) or payload<T>(), got ${entry === null ? 'null' : typeof entry}`,
      );
    }
  }
  const types = Object.freeze([...schemas.keys()]) as readonly (keyof CatalogInputs<D> & string)[];
  return Object.freeze({
    types,
    has: (type: string) => schemas.has(type),
    schemaOf: (type: string) => schemas.get(type),
  });
}

function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const standard = (value as Partial<StandardSchemaV1>)['~standard'];
  return typeof standard === 'object' && standard !== null && standard.version === 1 && typeof standard.validate === 'function';
}
