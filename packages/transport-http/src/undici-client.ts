import { Agent } from 'undici';
import { readBody, readModeFor, type HttpClient, type HttpClientSettings } from './http-client.js';

/**
 * True where undici's `Agent.request` works: Node. Bun maps `undici` to a
 * built-in shim without `Agent.prototype.request`; Deno, Cloudflare Workers
 * and edge runtimes have a native `fetch` that is the better engine there.
 */
export function undiciAvailable(): boolean {
  const g = globalThis as { Bun?: unknown; Deno?: unknown; EdgeRuntime?: unknown; navigator?: { userAgent?: string } };
  if (g.Bun !== undefined || g.Deno !== undefined || g.EdgeRuntime !== undefined) return false;
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return false;
  return typeof Agent === 'function' && typeof Agent.prototype?.request === 'function';
}

/** An {@link HttpClient} on a keep-alive undici `Agent` of at most `maxConnections` sockets (about 5x `fetch` on Node). */
export function createUndiciClient(settings: HttpClientSettings): HttpClient {
  const agent = new Agent({
    connections: settings.maxConnections,
    pipelining: 1,
    connect: { timeout: settings.connectTimeoutMs },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
  });
  return {
    kind: 'undici',
    async post({ url, headers, body, abort, readAll }) {
      // undici takes an EventEmitter-like signal: the exchange's abort as is, no AbortController per request.
      const response = await agent.request({ origin: url.origin, path: `${url.pathname}${url.search}`, method: 'POST', headers, body, signal: abort });
      const mode = readModeFor(response.statusCode, readAll);
      let text = '';
      if (mode === 'discard') await response.body.dump();
      else text = await readBody(response.body, mode, () => response.body.destroy());
      const all = response.headers;
      const header = (key: string) => {
        const value = all[key];
        return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
      };
      return { status: response.statusCode, header, text };
    },
    close: () => agent.destroy(),
  };
}
