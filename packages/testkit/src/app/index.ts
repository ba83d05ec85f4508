export { createInboxLink, type InboxLinkOptions } from './inbox-link.js';
export { waitForMessage, WaitForMessageError, type MessageMatch, type WaitForMessageOptions } from './wait-for-message.js';
