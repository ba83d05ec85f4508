import type { InboxBatchHandler, InboxHandler } from '../inbox/create-inbox.js';
import type { MessageMap } from './define-messages.js';
import type { IsUntyped, TypeOf } from './typed-api.js';

/** The payload a handler of type `T` gets: `P` taken on trust (untyped inbox), or the catalog's payload of `T`. */
export type HandlerPayload<M extends MessageMap, P, T extends TypeOf<M>> = IsUntyped<M> extends true ? P : M[T];

/** The handler `inbox.on` takes. */
export type InboxHandlerFor<Tx, M extends MessageMap, P, T extends TypeOf<M>> = InboxHandler<Tx, HandlerPayload<M, P, T>, T>;

/** The handler `inbox.onBatch` takes. */
export type InboxBatchHandlerFor<Tx, M extends MessageMap, P, T extends TypeOf<M>> = InboxBatchHandler<Tx, HandlerPayload<M, P, T>, T>;
