import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createBodyAlreadyReadError,
  createConsoleLogger,
  createInboxRequestHandler,
  type InboxReceiver,
  type InboxRequestHandlerOptions,
} from '@messagebox/core';
import { toFetchRequest } from './node-request.js';

/** Options of {@link expressInbox}: those of core's `createInboxRequestHandler`. */
export type ExpressInboxOptions = InboxRequestHandlerOptions;

/** The middleware {@link expressInbox} returns; fits Express 4 and 5 (and plain `node:http`). */
export type ExpressInboxHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * The inbox endpoint as Express middleware, over core's Fetch handler. It
 * reads the raw body itself (streaming, with the size limit), so mount it
 * **before** `express.json()` or on a router of its own; if a JSON parser
 * already consumed the body it answers 500 `body_already_read` and logs how
 * to fix the mounting. A body kept as a `Buffer` by `express.raw()` is used
 * as is. Mount with `app.all` (or `app.use`) so other methods get 405.
 *
 * @example
 * import express from 'express';
 * import { expressInbox } from '@messagebox/express';
 *
 * const app = express();
 * app.all('/inbox', expressInbox(inbox, { secret: process.env.INBOX_SECRET }));
 * app.use(express.json()); // after the inbox, for your other routes
 */
export function expressInbox(inbox: InboxReceiver, options: ExpressInboxOptions): ExpressInboxHandler {
  const handle = createInboxRequestHandler(inbox, options);
  const logger = options?.logger ?? createConsoleLogger();
  return (req, res, next) => {
    res.on('error', () => {});
    void (async () => {
      let response: Response;
      const raw = rawBody(req);
      if (raw === 'consumed') {
        const error = createBodyAlreadyReadError();
        logger.error({ path: req.url }, error.message);
        response = error.getResponse();
      } else {
        response = await handle(toFetchRequest(req, raw));
      }
      await sendResponse(res, response);
    })().catch((error: unknown) => {
      if (next) next(error);
      else if (!res.headersSent) res.writeHead(500).end();
    });
  };
}

function rawBody(req: IncomingMessage): Uint8Array | 'consumed' | undefined {
  const parsed = req as IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: unknown };
  if (parsed.body instanceof Uint8Array) return parsed.body;
  if (parsed.rawBody instanceof Uint8Array) return parsed.rawBody;
  if (parsed._body === true || req.readableDidRead || req.readableEnded) return 'consumed';
  const body = parsed.body;
  if (body === undefined) return undefined;
  const emptyObject = typeof body === 'object' && body !== null && Object.getPrototypeOf(body) === Object.prototype && Object.keys(body).length === 0;
  return emptyObject ? undefined : 'consumed';
}

async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  if (res.headersSent || res.destroyed) return;
  res.statusCode = response.status;
  response.headers.forEach((value, key) => res.setHeader(key, value));
  // A body that missed its deadline is not drained: the connection closes after the 408.
  if (response.status === 408) res.setHeader('connection', 'close');
  res.setHeader('content-length', body.byteLength);
  res.end(body);
}
