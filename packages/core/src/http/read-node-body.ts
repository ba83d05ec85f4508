import type { InboxRequestError } from './inbox-request-error.js';
import { assertDeclaredLength, concatChunks, timedOut, tooLarge, unreadable } from './read-body.js';

/**
 * A Node.js request body (`http.IncomingMessage`, or any Readable of bytes)
 * that a server adapter hands the inbox endpoint next to the Fetch `Request`,
 * so the endpoint reads the bytes straight from it instead of through
 * `request.body` (which makes the server build a Fetch `Request` and one or
 * two web streams per request). The endpoint uses it only while nothing has
 * read it or listens to its data; otherwise it reads `request.body` as usual.
 * Whatever the endpoint leaves unread (413, 408) is paused and left to the
 * server to drain or close, as `@hono/node-server` does.
 */
export interface NodeRequestBody {
  readonly readableDidRead: boolean;
  readonly readableEnded: boolean;
  listenerCount(event: 'data'): number;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** Whether `value` looks like a Node.js Readable the endpoint can read (an adapter's check of what its server gave it). */
export function isNodeRequestBody(value: unknown): value is NodeRequestBody {
  const body = value as Partial<NodeRequestBody> | null | undefined;
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof body.readableDidRead === 'boolean' &&
    typeof body.on === 'function' &&
    typeof body.off === 'function' &&
    typeof body.pause === 'function' &&
    typeof body.resume === 'function' &&
    typeof body.listenerCount === 'function'
  );
}

/** Whether nothing has read `body` or listens to its data yet (then the endpoint may read it itself). */
export function isUnreadNodeBody(body: NodeRequestBody): boolean {
  return !body.readableDidRead && !body.readableEnded && body.listenerCount('data') === 0;
}

/**
 * Reads the whole of `body`, with the same limits and errors as
 * `readBodyWithLimit` over a Fetch body: 413 as soon as the declared length
 * or the bytes so far pass `maxBytes`, 408 `body_timeout` when it is not
 * complete `timeoutMs` after reading began, 400 `unreadable_body` when the
 * client breaks off. Never buffers beyond the limit.
 */
export async function readNodeBody(body: NodeRequestBody, headers: Headers, maxBytes: number, timeoutMs = Number.POSITIVE_INFINITY): Promise<Uint8Array> {
  assertDeclaredLength(headers, maxBytes);
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let settled = false;
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => fail(timedOut(timeoutMs)), timeoutMs) : undefined;
    const detach = () => {
      settled = true;
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    function fail(error: InboxRequestError): void {
      if (settled) return;
      detach();
      body.pause();
      reject(error);
    }
    function onData(chunk: Uint8Array): void {
      total += chunk.byteLength;
      if (total > maxBytes) return fail(tooLarge(maxBytes));
      // A plain view, not the Node Buffer: the endpoint hands out Uint8Arrays.
      chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    function onEnd(): void {
      if (settled) return;
      detach();
      resolve(concatChunks(chunks, total));
    }
    function onError(cause: unknown): void {
      fail(unreadable(cause));
    }
    function onClose(): void {
      fail(unreadable(new Error('the client closed the connection before the body was complete')));
    }
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
    body.on('data', onData);
    body.resume();
  });
}
