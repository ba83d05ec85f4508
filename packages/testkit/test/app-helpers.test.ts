import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createOutbox, defineMessages, payload, silentLogger } from '@messagebox/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createInboxLink, waitForMessage, WaitForMessageError } from '@messagebox/testkit/app';

interface OrderCreated {
  id: string;
  total: number;
  placedAt: Date;
}

const messages = defineMessages({
  'order.created': payload<OrderCreated>(),
  'order.paid': z.object({ id: z.string(), amount: z.number().positive() }),
});

function service() {
  const ledger: Array<{ id: string; placedAt: unknown }> = [];
  const inbox = createInbox({ store: createMemoryInboxStore(), catalog: messages, logger: silentLogger, retry: { initialDelayMs: 10, maxAttempts: 2 } })
    .on('order.created', (message) => {
      if (message.payload.total < 0) throw new Error('negative total');
      ledger.push({ id: message.payload.id, placedAt: message.payload.placedAt });
    })
    .on('order.paid', () => {});
  const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 'shop', catalog: messages, logger: silentLogger, retry: { maxAttempts: 1 } })
    .configure('order.created', { transport: createInboxLink(inbox) })
    .configure('order.paid', { transport: createInboxLink(inbox) });
  return { inbox, outbox, ledger };
}

describe('application test helpers', () => {
  it('an outbox linked in memory to an inbox: waitForMessage by type and predicate, the payload through the wire format', async () => {
    const { inbox, outbox, ledger } = service();
    await inbox.start();
    try {
      const processed = waitForMessage(inbox, { type: 'order.created', where: (m) => m.payload.id === 'o-2' });
      await outbox.transaction(async (tx) => {
        await outbox.add(tx, { type: 'order.created', payload: { id: 'o-1', total: 5, placedAt: new Date('2030-01-01T00:00:00Z') } });
        await outbox.add(tx, { type: 'order.created', payload: { id: 'o-2', total: 7, placedAt: new Date('2030-01-02T00:00:00Z') } });
      });
      const message = await processed;
      expect(message.payload).toMatchObject({ id: 'o-2', total: 7 });
      // The handler's work is visible as soon as waitForMessage resolves; the Date arrived as JSON carries it.
      expect(ledger).toContainEqual({ id: 'o-2', placedAt: '2030-01-02T00:00:00.000Z' });
    } finally {
      await inbox.stop();
      await outbox.close();
    }
  });

  it('waitForMessage by id finds a message processed before it was called', async () => {
    const { inbox, outbox, ledger } = service();
    await inbox.start();
    try {
      const sent = await outbox.transaction((tx) => outbox.add(tx, { type: 'order.created', payload: { id: 'o-1', total: 1, placedAt: new Date() } }));
      await waitForMessage(inbox, sent);
      expect(ledger.map((row) => row.id)).toEqual(['o-1']);
      // Asked again, long after: found in the store at once.
      expect((await waitForMessage(inbox, { id: sent.id, source: 'shop' }, { timeoutMs: 1_000 })).id).toBe(sent.id);
    } finally {
      await inbox.stop();
      await outbox.close();
    }
  });

  it('rejects with a clear error when the message goes dead, naming the handler error', async () => {
    const { inbox, outbox } = service();
    await inbox.start();
    try {
      const processed = waitForMessage(inbox, { type: 'order.created' }, { timeoutMs: 20_000 });
      await outbox.transaction((tx) => outbox.add(tx, { type: 'order.created', payload: { id: 'o-1', total: -1, placedAt: new Date() } }));
      const error = await processed.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(WaitForMessageError);
      expect(error).toMatchObject({ code: 'dead', message: expect.stringContaining('negative total') });
    } finally {
      await inbox.stop();
      await outbox.close();
    }
  });

  it('times out with what it waited for when nothing matching is processed', async () => {
    const { inbox } = service();
    const error = await waitForMessage(inbox, { type: 'order.paid' }, { timeoutMs: 50 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(WaitForMessageError);
    expect((error as WaitForMessageError).code).toBe('timeout');
    expect((error as Error).message).toMatch(/a message of type "order.paid" was not processed within 50 ms; no handler run for it finished/);
    expect(() => waitForMessage(inbox, { type: 'order.paid' }, { timeoutMs: 0 })).toThrow(/timeoutMs must be a positive number/);
  });

  it('the link reports a payload the inbox schema refuses as a permanent failure: the message goes dead at once, nothing stored at the inbox', async () => {
    const inboxStore = createMemoryInboxStore();
    const inbox = createInbox({ store: inboxStore, catalog: messages, logger: silentLogger }).on('order.paid', () => {});
    // A sender without the schema (an older deploy) sends a payload the receiver's schema refuses.
    const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 'old-shop', logger: silentLogger }).configure('order.paid', { transport: createInboxLink(inbox) });
    const sent = await outbox.transaction((tx) => outbox.add(tx, { type: 'order.paid', payload: { id: 'o-1', amount: -5 } }));
    await outbox.idle();
    const row = await outbox.store.get(sent.id);
    expect(row?.status).toBe('dead');
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toMatch(/\(422\).*amount/);
    expect(await inboxStore.list()).toEqual([]);
  });
});
