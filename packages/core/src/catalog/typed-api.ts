import type { Message, MessageInput } from '../message.js';
import type { JsonCompatible } from './json-compatible.js';
import type { MessageMap } from './define-messages.js';

/** True for the map of an untyped outbox or inbox (`any`, the default). */
export type IsUntyped<M> = 0 extends 1 & M ? true : false;

/** The declared type names of a map. */
export type TypeOf<M> = keyof M & string;

/** The payload of type `T` in map `M`. */
export type PayloadOf<M, T> = M[T & keyof M];

/** A message of catalog type `T` (or of each type of a union) as a sender gives it. */
export type CatalogMessageInput<M, T extends string> = T extends unknown
  ? Omit<MessageInput, 'type' | 'payload'> & { type: T; payload: PayloadOf<M, T> }
  : never;

/** A message of catalog type `T` (a union of messages for a union of types). */
export type CatalogMessage<M, T extends string> = T extends unknown ? Message<PayloadOf<M, T>, T> : never;

/**
 * What `outbox.add` takes: any JSON-compatible payload (untyped), or a
 * message of a configured catalog type. The typed input is the union of the
 * configured types' messages, narrowed by `type` (cheap to check even with
 * deep schema types such as arktype's), and `T` only names the type for the
 * result.
 */
export type OutboxAddInput<M extends MessageMap, C extends TypeOf<M>, P, T extends TypeOf<M>> = IsUntyped<M> extends true
  ? MessageInput<P> & { payload: JsonCompatible<P> }
  : CatalogMessageInput<M, C> & { type: T };

/** What `outbox.add` resolves with. */
export type OutboxAddResult<M extends MessageMap, P, T extends TypeOf<M>> = IsUntyped<M> extends true ? Message<P> : Message<M[T], T>;

/** What `outbox.addMany` takes: a list of inputs like {@link OutboxAddInput}, each checked against its own type. */
export type OutboxAddManyInputs<M extends MessageMap, C extends string, P> = readonly (IsUntyped<M> extends true ? MessageInput<P> & { payload: JsonCompatible<P> } : CatalogMessageInput<M, C>)[];

/** What `outbox.addMany` resolves with. */
export type OutboxAddManyResult<M extends MessageMap, C extends string, P> = IsUntyped<M> extends true ? Message<P>[] : CatalogMessage<M, C>[];
