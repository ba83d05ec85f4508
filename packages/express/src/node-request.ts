import type { IncomingMessage } from 'node:http';

/** Bytes drained after the endpoint stopped reading (e.g. after a 413) before the socket is closed instead. */
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;

/** Converts a Node request into a Fetch `Request` whose body streams from `req` (never buffered here). */
export function toFetchRequest(req: IncomingMessage, body: Uint8Array | undefined): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // a header value Fetch cannot represent; the handler never needs it
    }
  }
  const method = req.method ?? 'GET';
  const url = requestUrl(req);
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers });
  const init: RequestInit & { duplex: 'half' } = {
    method,
    headers,
    body: body === undefined ? nodeBodyStream(req) : new Uint8Array(body),
    duplex: 'half',
  };
  try {
    return new Request(url, init);
  } catch {
    const request = new Request(url, { method: 'GET', headers });
    Object.defineProperty(request, 'method', { value: method });
    return request;
  }
}

function requestUrl(req: IncomingMessage): string {
  const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  try {
    return new URL(path.startsWith('/') && !path.startsWith('//') ? path : '/', 'http://localhost').href;
  } catch {
    return 'http://localhost/';
  }
}

function nodeBodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let finished = false;
  const listeners: Array<[string, (...args: any[]) => void]> = [];
  const listen = (event: string, fn: (...args: any[]) => void) => {
    listeners.push([event, fn]);
    req.on(event, fn);
  };
  const detach = () => {
    finished = true;
    for (const [event, fn] of listeners) req.off(event, fn);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        listen('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) req.pause();
        });
        listen('end', () => {
          detach();
          controller.close();
        });
        listen('error', (error: Error) => {
          detach();
          controller.error(error);
        });
        listen('close', () => {
          if (finished) return;
          detach();
          controller.error(new Error('the client closed the connection before the body was complete'));
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        if (finished) return;
        detach();
        drain(req);
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/** Reads and drops the rest of the body so the answer reaches the client and the connection stays usable; a sender that keeps going past a bound gets its socket closed. */
function drain(req: IncomingMessage): void {
  let drained = 0;
  const onData = (chunk: Buffer) => {
    drained += chunk.byteLength;
    if (drained > MAX_DRAIN_BYTES) {
      req.off('data', onData);
      req.socket?.destroy();
    }
  };
  req.on('data', onData);
  req.on('error', () => {});
  req.resume();
}
