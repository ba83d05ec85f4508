export { honoInbox, type HonoInboxOptions } from './hono-inbox.js';
