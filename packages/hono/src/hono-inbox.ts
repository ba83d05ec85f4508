import {
  createInboxRequestHandler,
  isNodeRequestBody,
  type InboxReceiver,
  type InboxRequestHandlerOptions,
} from '@messagebox/core';
import type { Context } from 'hono';

/** Options of {@link honoInbox}: those of core's `createInboxRequestHandler`. */
export type HonoInboxOptions = InboxRequestHandlerOptions;

/**
 * The inbox endpoint as a Hono handler, over core's Fetch handler. Mount it
 * with `app.all` so other methods get a 405 from the endpoint (with
 * `app.post` they get your app's 404 instead). It reads the raw body itself:
 * do not call `c.req.json()` in a middleware before it. On
 * `@hono/node-server` it reads the body from Node's request (`c.env.incoming`)
 * while nothing else has, sparing the Fetch body stream per request.
 *
 * @example
 * import { Hono } from 'hono';
 * import { honoInbox } from '@messagebox/hono';
 *
 * const app = new Hono();
 * app.all('/inbox', honoInbox(inbox, { secret: process.env.INBOX_SECRET }));
 */
export function honoInbox(inbox: InboxReceiver, options: HonoInboxOptions): (c: Context) => Promise<Response> {
  const handle = createInboxRequestHandler(inbox, options);
  return (c) => {
    const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
    return handle(c.req.raw, isNodeRequestBody(incoming) ? { nodeBody: incoming } : undefined);
  };
}
