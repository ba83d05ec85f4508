import { request as httpRequest, type OutgoingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

/** A server listening on 127.0.0.1, as the suites need it. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts `server` on 127.0.0.1 on `port` (default 0: an OS-chosen port);
 * `close()` also ends kept-alive connections. A server already listening is
 * kept where it is.
 *
 * @example
 * const running = await listenOnLoopback(createServer(app));
 * await fetch(`${running.url}/inbox`, { method: 'POST' });
 * await running.close();
 */
export async function listenOnLoopback(server: Server, port = 0): Promise<RunningServer> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What {@link rawRequest} got back. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request through `node:http` that can do what `fetch` refuses: a wrong
 * `content-length`, a body streamed chunk by chunk that waits for the answer
 * before ending. Resolves on the answer; write errors after it are ignored.
 *
 * @example
 * await rawRequest(url, { method: 'POST', headers: { 'content-length': '99999999' } });
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    headers?: OutgoingHttpHeaders;
    /** Written then the request ends; or chunks written one after the other. */
    body?: Uint8Array | string | Iterable<Uint8Array>;
    /** Do not end the request until the answer came (a sender that is still sending). */
    holdOpen?: boolean;
    timeoutMs?: number;
  } = {},
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers, agent: false });
    let answered = false;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer from ${url} within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        req.destroy();
      });
      res.on('error', () => {});
    });
    req.on('error', (error) => {
      if (answered) return;
      clearTimeout(timer);
      reject(error);
    });
    const body = options.body;
    if (body === undefined) {
      if (!options.holdOpen) req.end();
      else req.flushHeaders();
      return;
    }
    const chunks = typeof body === 'string' || body instanceof Uint8Array ? [body] : body;
    void (async () => {
      for (const chunk of chunks) {
        if (answered || req.destroyed) return;
        if (!req.write(chunk)) await new Promise((resolve) => req.once('drain', resolve).once('close', resolve));
      }
      if (!options.holdOpen && !req.destroyed) req.end();
    })();
  });
}

/**
 * Sends a POST whose body trickles, one byte every `intervalMs`, all but the
 * last byte (so it never completes), over a raw socket; stops sending once an
 * answer starts and resolves when the server has answered and closed the
 * connection. Rejects when that does not happen within `boundMs` (default 60 s).
 *
 * @example
 * const { status } = await trickleUntilClosed(url, { ...headers, 'content-length': String(bytes.length) }, bytes);
 */
export function trickleUntilClosed(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
  options: { intervalMs?: number; boundMs?: number } = {},
): Promise<{ status: number; text: string }> {
  const { hostname, port, pathname } = new URL(url);
  const intervalMs = options.intervalMs ?? 50;
  const boundMs = options.boundMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    let sent = 0;
    let tick: ReturnType<typeof setTimeout> | undefined;
    const bound = setTimeout(() => {
      socket.destroy();
      reject(new Error(`[messagebox] ${url} did not answer and close the connection within ${boundMs} ms`));
    }, boundMs);
    const send = () => {
      if (received.length > 0 || socket.destroyed || sent >= body.length - 1) return;
      socket.write(body.subarray(sent, sent + 1));
      sent++;
      tick = setTimeout(send, intervalMs);
    };
    socket.on('connect', () => {
      const lines = [`POST ${pathname} HTTP/1.1`, `host: ${hostname}:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      send();
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(bound);
      clearTimeout(tick);
      const text = Buffer.concat(received).toString('utf8');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (status) resolve({ status: Number(status[1]), text });
      else reject(new Error(`[messagebox] ${url} closed the connection without an answer after ${sent} body bytes`));
    });
  });
}
