export { InboxRequestError, isInboxRequestError, type InboxRequestErrorCode } from './inbox-request-error.js';
export {
  createWebhookSigner,
  createWebhookVerifier,
  generateWebhookSecret,
  parseWebhookSecret,
  WebhookVerificationError,
  WEBHOOK_SECRET_PREFIX,
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  type WebhookSigner,
  type WebhookSignInput,
  type WebhookVerifier,
  type WebhookVerifierOptions,
  type VerifiedWebhook,
  type WebhookVerificationErrorCode,
} from './webhook-signature.js';
export {
  encodeWebhookBody,
  encodeWebhookRequest,
  decodeWebhookBody,
  DEFAULT_WEBHOOK_SOURCE,
  MAX_WEBHOOK_JSON_DEPTH,
  KEY_HEADER,
  type WebhookBody,
  type WebhookRequest,
} from './wire-format.js';
export {
  createInboxRequestHandler,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_BATCH_MESSAGES,
  DEFAULT_MAX_BATCH_BYTES,
  type InboxReceiver,
  type InboxRequestHandler,
  type InboxRequestHandlerOptions,
} from './inbox-request-handler.js';
export { createBodyAlreadyReadError } from './read-body.js';
export { isNodeRequestBody, type NodeRequestBody } from './read-node-body.js';
export {
  BATCH_CONTENT_TYPE,
  BatchTooLargeError,
  encodeWebhookBatchItem,
  encodeWebhookBatchRequest,
  decodeWebhookBatchBody,
  decodeWebhookBatchResponse,
  type DecodedBatchItem,
  type WebhookBatchBody,
  type WebhookBatchItem,
  type WebhookBatchResult,
  type WebhookBatchResponse,
} from './batch-wire-format.js';
export {
  LoadShedder,
  DEFAULT_SHED_RETRY_AFTER_SECONDS,
  DEFAULT_BACKLOG_CHECK_MS,
  type BacklogSource,
  type ShedEvent,
  type ShedLoadOptions,
  type ShedTicket,
} from './load-shedding.js';
