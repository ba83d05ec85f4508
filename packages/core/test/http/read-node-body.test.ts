import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createInboxRequestHandler,
  createMessage,
  createWebhookSigner,
  encodeWebhookRequest,
  generateWebhookSecret,
  isInboxRequestError,
  isNodeRequestBody,
  silentLogger,
} from '../../src/index.js';
import { readNodeBody } from '../../src/http/read-node-body.js';
import { storingReceiver } from '../support.js';

const secret = generateWebhookSecret();
const signer = createWebhookSigner({ secret });
const message = createMessage({ type: 'order.created', source: 'shop', payload: { total: 12.5 } }, { now: new Date() });

const receiver = storingReceiver;

/** A signed request whose Fetch body is `fetchBody` (what the endpoint would read without the Node body), and the signed bytes. */
async function signed(fetchBody?: string) {
  const { headers, body } = await encodeWebhookRequest(message, { signer, now: Date.now() });
  const request = new Request('http://localhost/inbox', { method: 'POST', headers, body: fetchBody ?? body });
  return { request, body };
}

const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (isInboxRequestError(error) ? { code: error.code, status: error.status } : error),
  );

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe('readNodeBody', () => {
  it('reads every chunk of a Node stream into one plain Uint8Array', async () => {
    const stream = new PassThrough();
    const read = readNodeBody(stream, new Headers(), 100);
    stream.write('hello ');
    stream.end('world');
    const bytes = await read;
    expect(Buffer.isBuffer(bytes)).toBe(false);
    expect(new TextDecoder().decode(bytes)).toBe('hello world');
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('answers 413 from the declared length before reading, and as soon as the bytes pass the limit (then pauses the stream)', async () => {
    const declared = new PassThrough();
    expect(await errorOf(readNodeBody(declared, new Headers({ 'content-length': '11' }), 10))).toEqual({ code: 'payload_too_large', status: 413 });
    expect(declared.readableDidRead).toBe(false);

    const endless = new PassThrough();
    const read = errorOf(readNodeBody(endless, new Headers(), 10));
    endless.write('0123456789');
    endless.write('x');
    expect(await read).toEqual({ code: 'payload_too_large', status: 413 });
    expect(endless.isPaused()).toBe(true);
    expect(endless.listenerCount('data')).toBe(0);
  });

  it('answers 408 body_timeout for a body still incomplete at the deadline, and 400 unreadable_body when the client breaks off', async () => {
    const trickle = new PassThrough();
    const timedOut = errorOf(readNodeBody(trickle, new Headers(), 100, 50));
    trickle.write('{');
    expect(await timedOut).toEqual({ code: 'body_timeout', status: 408 });

    const broken = new PassThrough();
    const read = errorOf(readNodeBody(broken, new Headers(), 100));
    broken.write('{');
    await until(() => broken.readableDidRead);
    broken.destroy();
    expect(await read).toEqual({ code: 'unreadable_body', status: 400 });
  });

  it('isNodeRequestBody takes Node readables only', () => {
    expect(isNodeRequestBody(new PassThrough())).toBe(true);
    expect(isNodeRequestBody(new Request('http://localhost/', { method: 'POST', body: 'x' }).body)).toBe(false);
    expect(isNodeRequestBody({ on() {} })).toBe(false);
    expect(isNodeRequestBody(undefined)).toBe(false);
  });
});

describe('createInboxRequestHandler with a Node body', () => {
  it('reads the signed bytes from the Node body and leaves request.body untouched', async () => {
    const inbox = receiver();
    const handle = createInboxRequestHandler(inbox, { secret, logger: silentLogger });
    const { request, body } = await signed('not what was signed');
    const nodeBody = new PassThrough();
    nodeBody.end(body);
    const response = await handle(request, { nodeBody });
    expect(response.status).toBe(200);
    expect(inbox.stored.map((m) => m.id)).toEqual([message.id]);
    expect(request.bodyUsed).toBe(false);
    expect(nodeBody.readableEnded).toBe(true);
  });

  it('reads request.body instead when something already read the Node body', async () => {
    const inbox = receiver();
    const handle = createInboxRequestHandler(inbox, { secret, logger: silentLogger });
    const { request, body } = await signed();
    const nodeBody = new PassThrough();
    nodeBody.on('data', () => {});
    nodeBody.end(body);
    await until(() => nodeBody.readableDidRead);
    const response = await handle(request, { nodeBody });
    expect(response.status).toBe(200);
    expect(request.bodyUsed).toBe(true);
    expect(inbox.stored.map((m) => m.id)).toEqual([message.id]);
  });

  it('refuses a body over maxBodyBytes read from the Node body with 413, storing nothing', async () => {
    const inbox = receiver();
    const handle = createInboxRequestHandler(inbox, { secret, logger: silentLogger, maxBodyBytes: 64 });
    const { request } = await signed();
    const nodeBody = new PassThrough();
    nodeBody.end(Buffer.alloc(65, 'x'));
    const response = await handle(request, { nodeBody });
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe('payload_too_large');
    expect(inbox.stored).toEqual([]);
  });
});
