import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { jsonError } from './json-error.js';

/** Decides whether a request may use the dashboard: true lets it in, false answers 401, a Response is sent as it is. */
export type DashboardAuthorize = (request: Request) => boolean | Response | Promise<boolean | Response>;

/** Every route: the user's `authorize` hook first. */
export function authorizeRequests(authorize: DashboardAuthorize | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (authorize) {
      let verdict: boolean | Response;
      try {
        verdict = await authorize(c.req.raw);
      } catch {
        return jsonError(c, 500, 'authorize_failed', 'the authorize hook threw');
      }
      if (verdict instanceof Response) return verdict;
      if (verdict !== true) return jsonError(c, 401, 'unauthorized', 'not authorised to use this dashboard');
    }
    await next();
  };
}

export const CSRF_COOKIE = 'messagebox_dashboard_csrf';
export const CSRF_HEADER = 'x-messagebox-csrf';

/** The double-submit token of this browser: the cookie's, or a new one set as a cookie now. */
export function csrfToken(c: Parameters<MiddlewareHandler>[0]): string {
  const existing = getCookie(c, CSRF_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{32,}$/.test(existing)) return existing;
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  setCookie(c, CSRF_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure: new URL(c.req.url).protocol === 'https:' });
  return token;
}

/**
 * State-changing requests (anything but GET/HEAD) must come from the
 * dashboard's own page: `Sec-Fetch-Site` (when the browser sends it) is
 * `same-origin`, `Origin` (when sent) is this host or an allowed origin, and
 * the `x-messagebox-csrf` header equals the `messagebox_dashboard_csrf`
 * cookie (double submit: another site can neither read the cookie nor set
 * the header without a CORS preflight, which the dashboard never grants).
 */
export function refuseCrossSite(allowedOrigins: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    if (site !== undefined && site !== 'same-origin' && !(origin && allowedOrigins.includes(origin))) {
      return jsonError(c, 403, 'csrf', `cross-site request refused (Sec-Fetch-Site: ${site})`);
    }
    if (origin !== undefined && !allowedOrigins.includes(origin) && hostOf(origin) !== c.req.header('host')) {
      return jsonError(c, 403, 'csrf', 'request from another origin refused');
    }
    const cookie = getCookie(c, CSRF_COOKIE);
    const header = c.req.header(CSRF_HEADER);
    if (!cookie || !header || !sameText(cookie, header)) {
      return jsonError(c, 403, 'csrf', `missing or wrong ${CSRF_HEADER} header; load the dashboard page again`);
    }
    return next();
  };
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** Compares in time that does not depend on where the texts differ. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
