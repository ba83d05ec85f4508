import { isMessageboxError, MessageboxError, type MessageboxOperations } from '@messagebox/core';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { addApiRoutes } from './api-routes.js';
import { jsonError } from './json-error.js';
import { pageAssets } from './page-assets.js';
import { authorizeRequests, refuseCrossSite, type DashboardAuthorize } from './security.js';

/**
 * Options of {@link createDashboard}.
 *
 * @example
 * createDashboard({ operations, authorize: (req) => req.headers.get('authorization') === `Bearer ${process.env.OPS_TOKEN}` })
 */
export interface DashboardOptions {
  /** What the dashboard shows and does: `createOperations({ outbox, inbox })`. */
  operations: MessageboxOperations;
  /**
   * Decides who may use the dashboard (every page and API request): return
   * true to let the request in, false to answer 401, or a Response of your
   * own (e.g. a 401 with `WWW-Authenticate`). Required unless `privateNetwork`.
   */
  authorize?: DashboardAuthorize;
  /** Set to true to run without `authorize`, when only trusted people can reach the server. Default false: no `authorize`, no dashboard. */
  privateNetwork?: boolean;
  /** Shows everything, changes nothing: replay and purge answer 403 and the page hides them. Default false. */
  readOnly?: boolean;
  /** How often the page refreshes, in ms. Default 5 000. */
  pollMs?: number;
  /** Origins besides the dashboard's own host allowed to send state-changing requests (e.g. behind a proxy that rewrites Host). Default none. */
  allowedOrigins?: readonly string[];
  /** Called with errors that answered 500 (store failures), for your logger. */
  onError?: (error: unknown) => void;
}

/**
 * The operator's dashboard as a Hono app: an HTML page (prebuilt, shipped in
 * the package) and the JSON API behind it, over `createOperations`. Mount it
 * under a path of your server; for Express or plain Node, serve its `fetch`
 * through `@hono/node-server`'s `getRequestListener`.
 *
 * Throws `invalid_options` without `authorize` unless `privateNetwork: true`.
 *
 * @example
 * const dashboard = createDashboard({ operations: createOperations({ outbox, inbox }), authorize });
 * app.route('/ops', dashboard);                                        // Hono
 * expressApp.use('/ops', getRequestListener(dashboard.fetch));         // Express
 */
export function createDashboard(options: DashboardOptions): Hono {
  if (!options || typeof options.operations?.overview !== 'function') {
    throw new MessageboxError('invalid_options', 'createDashboard needs `operations` (createOperations({ outbox, inbox }) from @messagebox/core)');
  }
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw new MessageboxError('invalid_options', 'authorize must be a function (request) => boolean | Response');
  }
  if (!options.authorize && options.privateNetwork !== true) {
    throw new MessageboxError(
      'invalid_options',
      'the dashboard refuses to start without an `authorize(request)` hook; pass one, or `privateNetwork: true` if only trusted people can reach this server',
    );
  }
  const pollMs = options.pollMs ?? 5_000;
  if (!Number.isInteger(pollMs) || pollMs < 500) throw new MessageboxError('invalid_options', `pollMs must be an integer >= 500, got ${pollMs}`);
  const page = pageAssets();
  const app = new Hono();

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
  });
  app.use('*', authorizeRequests(options.authorize));
  app.use('*', refuseCrossSite(options.allowedOrigins ?? []));
  app.use('/api/*', bodyLimit({ maxSize: 256 * 1024, onError: (c) => jsonError(c, 413, 'too_large', 'the body is larger than 256 KiB') }));

  const servePage = (c: Context) => {
    c.header('Content-Security-Policy', page.contentSecurityPolicy);
    c.header('X-Frame-Options', 'DENY');
    return c.html(page.html);
  };
  app.get('/', servePage);
  app.get('/index.html', servePage);
  addApiRoutes(app, { operations: options.operations, readOnly: options.readOnly === true, pollMs });
  // Mounted with `app.route('/ops', dashboard)`, '/' matches `/ops` only: `/ops/` lands here.
  app.get('/*', (c) => (c.req.path.endsWith('/') && !c.req.path.includes('/api/') ? servePage(c) : jsonError(c, 404, 'not_found', 'no such dashboard route')));

  app.notFound((c) => jsonError(c, 404, 'not_found', 'no such dashboard route'));
  app.onError((error, c) => {
    if (isMessageboxError(error, 'invalid_options')) return jsonError(c, 400, 'invalid_request', error.message);
    options.onError?.(error);
    return jsonError(c, 500, 'failed', '[messagebox] the dashboard request failed; see the server log');
  });
  return app;
}
