// The ceiling's client: the HTTP transport itself (same undici Agent, same
// signed Standard Webhooks requests), with as many requests in flight as one
// outbox process runs attempts (its default `concurrency`, 32).
import { createMessage } from '@messagebox/core';
import { createHttpTransport } from '@messagebox/transport-http';
import { childSetup, env, measureWindow, on, tell, wallNow } from './child-side.js';
import { MESSAGE_TYPE, payloadOf } from './messages.js';
import { StatementCounter } from './statement-counter.js';

childSetup();
const count = Number(env('MB_COUNT'));
const inFlight = Number(env('MB_IN_FLIGHT'));
const offset = Number(env('MB_OFFSET'));
const transport = createHttpTransport({ url: env('MB_TARGET_URL'), secret: env('MB_SECRET') });
const now = new Date();
const messages = Array.from({ length: count }, (_, i) => createMessage({ type: MESSAGE_TYPE, payload: payloadOf(offset + i), source: 'bench' }, { now }));
let window: ReturnType<typeof measureWindow> | undefined;

on('go', async () => {
  window = measureWindow(new StatementCounter(), {});
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < messages.length) {
        const message = messages[next++]!;
        try {
          await transport.send(message, { attempt: 1 });
        } catch {
          failures++;
        }
      }
    }),
  );
  tell({ kind: 'done', at: wallNow(), failures });
});
on('stop', async () => {
  const usage = window?.end();
  await transport.close?.();
  tell({ kind: 'final', usage });
  process.disconnect?.();
  process.exit(0);
});
tell({ kind: 'ready' });
