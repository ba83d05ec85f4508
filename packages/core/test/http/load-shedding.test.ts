import { describe, expect, it } from 'vitest';
import { createInbox, createInboxRequestHandler, createMemoryInboxStore, silentLogger, type InboxStore, type ShedEvent } from '../../src/index.js';

const post = (handle: (r: Request) => Promise<Response>, id: string, contentType = 'application/json') =>
  handle(
    new Request('http://x/inbox', {
      method: 'POST',
      headers: { 'content-type': contentType, 'webhook-id': id },
      body: JSON.stringify(contentType === 'application/json' ? { type: 'waits', data: {}, source: 's', timestamp: new Date().toISOString() } : { messages: [] }),
    }),
  );

/** An inbox whose store counts how often the backlog is read (`count`, or `stats` where there is none). */
function counted() {
  const base = createMemoryInboxStore();
  const reads = { count: 0 };
  const store: InboxStore<unknown> = new Proxy(base, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property === 'stats' || property === 'count') return async (...args: unknown[]) => (reads.count++, (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as InboxStore<unknown>;
  const inbox = createInbox({ store, logger: silentLogger, unknownTypes: 'accept', retention: false });
  return { inbox, reads };
}

describe('inbox endpoint load shedding', () => {
  it('reads the backlog at most once per backlogCheckMs, not once per request', async () => {
    const { inbox, reads } = counted();
    const handle = createInboxRequestHandler(inbox, { allowUnsigned: true, logger: silentLogger, shedLoad: { maxBacklog: 1_000, backlogCheckMs: 3_600_000 } });
    for (let i = 0; i < 50; i++) expect((await post(handle, `m${i}`)).status).toBe(200);
    expect(reads.count).toBe(1);
  });

  it('a refusal: the status asked for, Retry-After, the overloaded error, before the body is read, a shed event; the log says so once when it starts and when it ends', async () => {
    const { inbox } = counted();
    const warnings: string[] = [];
    const infos: string[] = [];
    const logger = { ...silentLogger, warn: (_: object, message: string) => void warnings.push(message), info: (_: object, message: string) => void infos.push(message) };
    const events: ShedEvent[] = [];
    inbox.events.on('shed', (e) => events.push(e));
    const handle = createInboxRequestHandler(inbox, { allowUnsigned: true, logger, shedLoad: { maxBacklog: 1, backlogCheckMs: 0, status: 429, retryAfterSeconds: 7 } });
    for (let i = 0; i < 2; i++) expect((await post(handle, `ok${i}`)).status).toBe(200);
    let refused: Response | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const response = await post(handle, `later${i}`);
      if (response.status !== 200) refused = response;
    }
    expect(refused?.status).toBe(429);
    expect(refused?.headers.get('retry-after')).toBe('7');
    expect(await refused?.json()).toMatchObject({ error: { code: 'overloaded', message: expect.stringMatching(/maxBacklog 1.*retry after 7 s/) } });
    // Refused before the body is read: a body that never ends gets the refusal, not the body-read deadline's 408.
    const endless = new ReadableStream({ pull: () => new Promise(() => {}) });
    const streamed = await handle(new Request('http://x/inbox', { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'endless' }, body: endless, duplex: 'half' } as RequestInit));
    expect(streamed.status).toBe(429);
    const batch = await post(handle, 'batch_1', 'application/vnd.messagebox.batch+json');
    expect(batch.status).toBe(429);
    expect(events.at(-1)).toEqual({ reason: 'backlog', value: expect.any(Number), limit: 1, batch: true, retryAfterSeconds: 7 });
    expect(warnings.filter((w) => /shedding load/.test(w))).toHaveLength(1);
    const stored = (await inbox.store.stats()).received;

    inbox.on('waits', () => {});
    await inbox.processDue();
    let accepted = false;
    for (let i = 0; i < 20 && !accepted; i++) accepted = (await post(handle, `again${i}`)).status === 200;
    expect(accepted).toBe(true);
    expect(infos.filter((m) => /stopped shedding load/.test(m))).toHaveLength(1);
    expect(stored).toBeGreaterThanOrEqual(2);
  });

  it('shedLoad: false is off; a failing backlog read is logged and does not refuse', async () => {
    const base = createMemoryInboxStore();
    const broken = new Proxy(base, { get: (t, p) => (p === 'stats' || p === 'count' ? () => Promise.reject(new Error('db down')) : Reflect.get(t, p, t)) }) as InboxStore<unknown>;
    const errors: string[] = [];
    const inbox = createInbox({ store: broken, logger: silentLogger, unknownTypes: 'accept', retention: false });
    const handle = createInboxRequestHandler(inbox, { allowUnsigned: true, logger: { ...silentLogger, error: (_: object, m: string) => void errors.push(m) }, shedLoad: { maxBacklog: 0 } });
    expect((await post(handle, 'a')).status).toBe(200);
    expect(errors.some((m) => /reading the backlog for load shedding failed/.test(m))).toBe(true);
    const off = createInboxRequestHandler(inbox, { allowUnsigned: true, logger: silentLogger, shedLoad: false });
    expect((await post(off, 'b')).status).toBe(200);
  });
});
