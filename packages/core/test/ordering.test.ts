import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createMessage, createOutbox, decodeWebhookBody, encodeWebhookRequest, isMessageboxError, KEY_HEADER, type Message, type Transport } from '../src/index.js';
import { down, recordingTransport, silent } from './support.js';

/** A transport whose sends wait until released, recording the order they started in and how many of a key ran at once. */
function gatedTransport() {
  const started: Message[] = [];
  const gates: Array<() => void> = [];
  const running = new Map<string, number>();
  let overlap = 0;
  const transport: Transport = {
    name: 'gated',
    async send(message) {
      started.push(message);
      const key = message.key ?? '';
      running.set(key, (running.get(key) ?? 0) + 1);
      if (message.key !== undefined && running.get(key)! > 1) overlap++;
      await new Promise<void>((resolve) => gates.push(resolve));
      running.set(key, running.get(key)! - 1);
    },
  };
  return { transport, started, openAll: () => gates.splice(0).forEach((open) => open()), overlap: () => overlap };
}

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

function outboxWith(transport: Transport, options: Partial<Parameters<typeof createOutbox>[0]> = {}) {
  const store = createMemoryOutboxStore();
  const outbox = createOutbox({ store, source: 'billing', logger: silent, pollIntervalMs: 3_600_000, retry: { initialDelayMs: 1, maxDelayMs: 1, jitter: 0, maxAttempts: 3 }, ...options }).configure('account.changed', { transport });
  return { store, outbox };
}

describe('ordering: keys on messages', () => {
  it.each([
    ['a number', 42],
    ['an empty string', ''],
    ['an over-long string', 'k'.repeat(256)],
    ['a line break', 'a\nb'],
    ['a leading space', ' a'],
    ['non-ASCII', 'kéy'],
  ])('refuses %s as a key with invalid_message, and writes nothing', async (_, key) => {
    const { outbox, store } = outboxWith(recordingTransport());
    const error = await outbox.transaction((tx) => outbox.add(tx, { type: 'account.changed', payload: 1, key: key as string })).catch((e: unknown) => e);
    expect(isMessageboxError(error, 'invalid_message')).toBe(true);
    expect((error as Error).message).toMatch(/^\[messagebox\] key of "account.changed" must be a string of 1 to 255 printable ASCII/);
    expect((await store.stats()).pending).toBe(0);
  });

  it('accepts a key of 255 printable characters with spaces inside, and keeps it on the message', () => {
    const key = `a ${'x'.repeat(252)}z`;
    expect(createMessage({ type: 't', payload: 1, source: 's', key }, { now: new Date() }).key).toBe(key);
    expect('key' in createMessage({ type: 't', payload: 1, source: 's' }, { now: new Date() })).toBe(false);
  });

  it('createOutbox and createInbox refuse an unknown ordering.dead', () => {
    expect(() => createOutbox({ store: createMemoryOutboxStore(), ordering: { dead: 'drop' as never } })).toThrow(/ordering.dead must be "block" or "skip"/);
    expect(() => createInbox({ store: createMemoryInboxStore(), ordering: { dead: 'drop' as never } })).toThrow(/ordering.dead must be "block" or "skip"/);
  });
});

describe('ordering: outbox after commit', () => {
  it('sends the first message of a key right after commit and the next only after it succeeded, while other keys and unkeyed messages go at once', async () => {
    const gated = gatedTransport();
    const { outbox } = outboxWith(gated.transport);
    await outbox.start();
    const [a1, a2, b1, free] = await outbox.transaction((tx) =>
      outbox.addMany(tx, [
        { type: 'account.changed', payload: 1, key: 'a' },
        { type: 'account.changed', payload: 2, key: 'a' },
        { type: 'account.changed', payload: 3, key: 'b' },
        { type: 'account.changed', payload: 4 },
      ]),
    );
    await until(() => gated.started.length === 3, 'the free messages');
    expect(gated.started.map((m) => m.id).sort()).toEqual([a1!.id, b1!.id, free!.id].sort());
    gated.openAll();
    await until(() => gated.started.length === 4, 'the second message of key a');
    expect(gated.started[3]!.id).toBe(a2!.id);
    gated.openAll();
    await outbox.idle();
    await outbox.stop();
    expect(gated.overlap()).toBe(0);
  });

  it('a message whose key has an earlier one pending (from another transaction) steps aside: the worker sends it after the earlier one', async () => {
    const transport = recordingTransport();
    transport.failNext(down());
    const { outbox, store } = outboxWith(transport, { pollIntervalMs: 20, retry: { initialDelayMs: 50, maxDelayMs: 50, jitter: 0, maxAttempts: 5 } });
    const first = await outbox.transaction((tx) => outbox.add(tx, { type: 'account.changed', payload: 1, key: 'k' }));
    await outbox.idle();
    expect((await store.get(first.id))?.attempts).toBe(1);
    const second = await outbox.transaction((tx) => outbox.add(tx, { type: 'account.changed', payload: 2, key: 'k' }));
    await outbox.idle();
    expect((await store.get(second.id))).toMatchObject({ status: 'pending', attempts: 0 });
    await outbox.start();
    await until(() => transport.delivered.length === 2, 'both messages');
    await outbox.stop();
    expect(transport.delivered.map((m) => m.id)).toEqual([first.id, second.id]);
  });

  it("with ordering.dead 'block' a dead message holds its key; with 'skip' the next goes on", async () => {
    for (const dead of ['block', 'skip'] as const) {
      const transport = recordingTransport();
      transport.failNext(down(), down(), down());
      const { outbox, store } = outboxWith(transport, { ordering: { dead }, pollIntervalMs: 20 });
      await outbox.start();
      const [poison, next] = await outbox.transaction((tx) => outbox.addMany(tx, [{ type: 'account.changed', payload: 1, key: 'k' }, { type: 'account.changed', payload: 2, key: 'k' }]));
      await until(() => transport.attempts.length >= 3, 'three attempts of the first');
      if (dead === 'skip') await until(() => transport.delivered.length === 1, 'the next message');
      else {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await outbox.resendUnsentMessages();
      }
      await outbox.stop();
      expect((await store.get(poison!.id))?.status).toBe('dead');
      expect((await store.get(next!.id))?.status).toBe(dead === 'skip' ? 'sent' : 'pending');
    }
  });
});

describe('ordering: inbox', () => {
  it('handles the messages of one (source, key) in the order received: a later one waits while an earlier one is retrying, another key does not', async () => {
    const store = createMemoryInboxStore();
    const seen: number[] = [];
    let failures = 0;
    const inbox = createInbox({ store, logger: silent, pollIntervalMs: 20, retry: { initialDelayMs: 30, maxDelayMs: 30, jitter: 0 } }).on('account.changed', async (message) => {
      if (message.payload === 1 && failures++ < 2) throw new Error('not yet');
      seen.push(message.payload as number);
    });
    await inbox.start();
    const m = (n: number, key: string) => createMessage({ type: 'account.changed', payload: n, source: 'billing', key }, { now: new Date() });
    await inbox.receive(m(1, 'k'));
    await until(() => failures >= 1, 'the first failure');
    await inbox.receive(m(2, 'k'));
    await inbox.receive(m(3, 'k'));
    await inbox.receive(m(10, 'other'));
    await until(() => seen.length === 4, 'every handler');
    await inbox.stop();
    expect(seen.filter((n) => n < 10)).toEqual([1, 2, 3]);
    expect(seen).toContain(10);
    expect(failures).toBe(3);
  });

  it('inline mode stores a message whose key is held, answers, and the worker handles it after the earlier one', async () => {
    const store = createMemoryInboxStore();
    const seen: number[] = [];
    let fail = true;
    const inbox = createInbox({ store, mode: 'inline', logger: silent, pollIntervalMs: 3_600_000, retry: { initialDelayMs: 1, maxDelayMs: 1, jitter: 0 } }).on('account.changed', async (message) => {
      if (message.payload === 1 && fail) throw new Error('not yet');
      seen.push(message.payload as number);
    });
    const m = (n: number) => createMessage({ type: 'account.changed', payload: n, source: 'billing', key: 'k' }, { now: new Date() });
    const first = m(1);
    await expect(inbox.receive(first)).rejects.toThrow(/handler for "account.changed" failed/);
    fail = false;
    // The sender retries the first one; it is handled inline, then the second arrives.
    await inbox.receive(first);
    const second = m(2);
    await inbox.receive(second);
    expect(seen).toEqual([1, 2]);
  });
});

describe('ordering: on the wire', () => {
  it('the key travels in the signed body and in the messagebox-key header, and decodes back', async () => {
    const message = createMessage({ type: 'account.changed', payload: 1, source: 'billing', key: 'acct 7' }, { now: new Date() });
    const request = await encodeWebhookRequest(message, { now: Date.now() });
    expect(KEY_HEADER).toBe('messagebox-key');
    expect(request.headers[KEY_HEADER]).toBe('acct 7');
    expect(JSON.parse(request.body).key).toBe('acct 7');
    expect(decodeWebhookBody(JSON.parse(request.body), message.id).key).toBe('acct 7');
    const { key: _, ...bodyWithoutKey } = JSON.parse(request.body);
    expect(decodeWebhookBody(bodyWithoutKey, message.id, { keyHeader: 'from-header' }).key).toBe('from-header');
    expect(() => decodeWebhookBody(JSON.parse(request.body), message.id, { keyHeader: 'other' })).toThrow(/messagebox-key header .* differs from the body's "key"/);
    expect(() => decodeWebhookBody({ ...bodyWithoutKey, key: 5 }, message.id)).toThrow(/key of "account.changed" must be a string/);
    const unkeyed = await encodeWebhookRequest(createMessage({ type: 't', payload: 1, source: 's' }, { now: new Date() }), { now: Date.now() });
    expect(unkeyed.headers[KEY_HEADER]).toBeUndefined();
    expect(JSON.parse(unkeyed.body).key).toBeUndefined();
  });
});
