export { createInbox, type Inbox, type InboxOptions, type InboxHandler, type HandlerContext, type HandlerOptions, type ReceiveResult, type InboxBatchHandler, type BatchHandlerContext, type BatchHandlerOptions } from './create-inbox.js';
export { type PublishingOutbox } from './handler-publishing.js';
export { DeadLetterError, RetryLaterError, type RetryLaterOptions } from './handler-errors.js';
export type { InboxEventMap } from './inbox-events.js';
