import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, type HandlerContext } from '../src/index.js';
import { silent } from './support.js';

const message = (id: string) => ({ id, source: 's', type: 't', payload: 1, headers: {}, createdAt: new Date() });

describe('inbox handler abort signal', () => {
  it('is aborted when stop({ timeoutMs }) runs out of time; the handler ends and the message stays to be retried', async () => {
    const store = createMemoryInboxStore();
    let started!: (signal: AbortSignal) => void;
    const running = new Promise<AbortSignal>((resolve) => (started = resolve));
    const inbox = createInbox({ store, logger: silent, retry: { initialDelayMs: 60_000 } }).on('t', (_message, { signal }) => {
      started(signal);
      return new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    });
    await inbox.receive(message('m1'));
    const signal = await running;
    expect(signal.aborted).toBe(false);
    expect(await inbox.stop({ timeoutMs: 20 })).toBe(false);
    expect(signal.aborted).toBe(true);
    await inbox.idle();
    expect(await store.get({ source: 's', id: 'm1' })).toMatchObject({ status: 'received', attempts: 1, lastError: expect.stringMatching(/stopped before this attempt finished/) });
  });

  it('is a live signal, never aborted, for an inline handler and for a handler that finishes in time', async () => {
    const seen: HandlerContext<unknown>[] = [];
    const inline = createInbox({ store: createMemoryInboxStore(), logger: silent, mode: 'inline' }).on('t', (_m, context) => void seen.push(context));
    await inline.receive(message('m2'));
    const later = createInbox({ store: createMemoryInboxStore(), logger: silent }).on('t', (_m, context) => void seen.push(context));
    await later.receive(message('m3'));
    await later.idle();
    expect(await later.stop({ timeoutMs: 1_000 })).toBe(true);
    expect(seen.map((c) => [c.signal instanceof AbortSignal, c.signal.aborted])).toEqual([
      [true, false],
      [true, false],
    ]);
  });
});
