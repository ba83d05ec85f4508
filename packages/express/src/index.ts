export { expressInbox, type ExpressInboxHandler, type ExpressInboxOptions } from './express-inbox.js';
