import { createMemoryOutboxStore, createMessage, createOutbox, silentLogger } from '@messagebox/core';
import { startRecordingServer, type RecordingServer } from '@messagebox/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../src/index.js';

/** ESC, BEL, C1 CSI and a bidi override: what could retitle, clear or reorder an operator's terminal. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = '\x1b]0;owned\x07\x1b[2J\x1b[3J\x9b2J\u202eerror';

let server: RecordingServer;
beforeEach(async () => {
  server = await startRecordingServer();
});
afterEach(() => server.close());

describe('a receiver that answers with terminal control sequences', () => {
  it('stores last_error with its control characters escaped, and the transport error has none either', async () => {
    server.respond((_req, res) => res.writeHead(400, { 'content-type': 'text/plain' }).end(`${HOSTILE} bad request`));
    const transport = createHttpTransport({ url: server.url });
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'vault', logger: silentLogger }).configure('t', { transport });
    const failures: string[] = [];
    outbox.events.on('dead', ({ error }) => void failures.push(error));
    const message = await outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: 1 }));
    await outbox.idle();
    const row = await store.get(message.id);
    expect(row?.status).toBe('dead');
    expect(row!.lastError).not.toMatch(RAW_CONTROL);
    expect(row!.lastError).toContain('answered 400');
    expect(row!.lastError).toContain('\\u001b]0;owned\\u0007\\u001b[2J');
    expect(failures).toHaveLength(1);
    expect(failures[0]).not.toMatch(RAW_CONTROL);

    const error = await transport.send(message, { attempt: 2 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain('\\u001b]0;owned');
    expect(error!.message).not.toMatch(RAW_CONTROL);
    await transport.close?.();
  });

  it('quotes a hostile redirect location escaped and short', async () => {
    server.respond((_req, res) => res.writeHead(302, { location: `https://x.example/\x9b2J${'a'.repeat(8_000)}` }).end());
    const transport = createHttpTransport({ url: server.url });
    const message = createMessage({ type: 't', source: 'vault', payload: 1 }, { now: new Date() });
    const error = await transport.send(message, { attempt: 1 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/answered 302 \(redirect to "https:\/\/x\.example\/\\u009b2Ja+…\)/);
    expect(error!.message).not.toMatch(RAW_CONTROL);
    expect(error!.message.length).toBeLessThan(400);
    await transport.close?.();
  });
});
