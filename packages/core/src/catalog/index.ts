export {
  defineMessages,
  payload,
  type AnyMessageCatalog,
  type CatalogEntry,
  type CatalogInputs,
  type CatalogOutputs,
  type InputsOf,
  type MessageCatalog,
  type MessageMap,
  type OutputsOf,
  type PayloadType,
  type UntypedMessages,
} from './define-messages.js';
export type { JsonCompatible } from './json-compatible.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export type { CatalogMessage, CatalogMessageInput, IsUntyped, OutboxAddInput, OutboxAddManyInputs, OutboxAddManyResult, OutboxAddResult, PayloadOf, TypeOf } from './typed-api.js';
export type { HandlerPayload, InboxBatchHandlerFor, InboxHandlerFor } from './typed-inbox.js';
export { isPayloadValidationError, MAX_PAYLOAD_ISSUES, normaliseIssues, PayloadValidationError, validatePayload, type PayloadIssue } from './validate-payload.js';
