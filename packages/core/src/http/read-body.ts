import { InboxRequestError, isInboxRequestError } from './inbox-request-error.js';

/**
 * Reads the whole body, refusing (413) as soon as the declared length or the
 * bytes read so far exceed `maxBytes`, and (408 `body_timeout`) when it is
 * not complete `timeoutMs` after reading began; the stream is cancelled then,
 * never buffered beyond the limit.
 */
export async function readBodyWithLimit(request: Request, maxBytes: number, timeoutMs = Number.POSITIVE_INFINITY): Promise<Uint8Array> {
  if (request.bodyUsed) throw createBodyAlreadyReadError();
  assertDeclaredLength(request.headers, maxBytes);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => reject(timedOut(timeoutMs)), timeoutMs);
  });
  deadline.catch(() => {});
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (isInboxRequestError(error)) {
      if (error.code === 'body_timeout') reader.cancel().catch(() => {});
      throw error;
    }
    throw unreadable(error);
  } finally {
    clearTimeout(timer);
  }
  return concatChunks(chunks, total);
}

/** @internal `chunks` (of `total` bytes) as one `Uint8Array`: the only chunk itself, or a copy of them all. */
export function concatChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Refuses (413) a body whose `content-length` already says it is over `maxBytes`, before reading any of it. */
export function assertDeclaredLength(headers: Headers, maxBytes: number): void {
  const declared = headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

/** @internal The 408 of a body still incomplete after `timeoutMs`. */
export function timedOut(timeoutMs: number): InboxRequestError {
  return new InboxRequestError('body_timeout', 408, `the request body did not arrive whole within ${timeoutMs} ms`);
}

/** @internal The 400 of a body the client broke off sending. */
export function unreadable(cause: unknown): InboxRequestError {
  return new InboxRequestError('unreadable_body', 400, 'the request body could not be read', { cause });
}

/** @internal The 413 of a body over `maxBytes`. */
export function tooLarge(maxBytes: number): InboxRequestError {
  return new InboxRequestError('payload_too_large', 413, `the request body is larger than ${maxBytes} bytes`);
}

/**
 * The error (500, `body_already_read`) for an endpoint mounted after a body
 * parser: the raw bytes the signature covers are gone. Server adapters throw
 * it when they detect a parsed or consumed body.
 */
export function createBodyAlreadyReadError(): InboxRequestError {
  return new InboxRequestError(
    'body_already_read',
    500,
    'the request body was read before the inbox endpoint (a body parser such as express.json() or c.req.json() ran first); ' +
      'mount the inbox endpoint before any body parser, or on a router of its own, so it can verify the raw bytes',
  );
}
