import { createInbox, createOutbox, silentLogger, type InboxRecord, type InboxStore, type Message, type OutboxRecord, type OutboxStore, type Transport } from '@messagebox/core';
import { expect } from 'vitest';
import { message } from './fixtures.js';
import type { StorageCase, StorageUnderTest } from './types.js';

type Stores = StorageUnderTest<unknown, unknown>;

/** What the transport saw, read on the stores' own connections (not the handler's transaction) while `send` ran. */
interface SendTime {
  published: Message;
  /** The inbox message whose handler published it. */
  handled: InboxRecord | null;
  /** The handler's own write (a row of a type no handler takes, standing in for a business row). */
  business: InboxRecord | null;
  /** The published message's own row. */
  row: OutboxRecord | null;
}

const quiet = { logger: silentLogger, retention: false as const, pollIntervalMs: 3_600_000 };
/** The business row a handler writes for `incoming`, keyed by it. */
const businessOf = (incoming: Message): Message => ({ ...message('business.row', { of: incoming.id }), id: `biz-${incoming.id}` });

/**
 * An outbox (worker never started: only the after-commit path can send) whose
 * transport records, at send time, the rows of the handled message, of the
 * handler's business write and of the published message.
 */
function publishing(stores: Stores) {
  const seen: SendTime[] = [];
  const inboxStore = stores.inbox as InboxStore<unknown>;
  const outboxStore = stores.outbox as OutboxStore<unknown>;
  const transport: Transport = {
    name: 'recording',
    send: async (published) => {
      const of = (published.payload as { of: string }).of;
      const key = { source: 'conformance', id: of };
      seen.push({ published, handled: await inboxStore.get(key), business: await inboxStore.get({ source: 'conformance', id: `biz-${of}` }), row: await outboxStore.get(published.id) });
    },
  };
  const outbox = createOutbox({ store: outboxStore, source: 'ledger', ...quiet }).configure('ledger.booked', { transport });
  /** The handler's work: its business row and one published message, both with `tx`. */
  const write = async (tx: unknown, incoming: Message) => {
    await inboxStore.receive(tx, businessOf(incoming));
    return outbox.add(tx, { type: 'ledger.booked', payload: { of: incoming.id } });
  };
  return { seen, outbox, inboxStore, outboxStore, write };
}

const receiveAll = (store: InboxStore<unknown>, messages: readonly Message[]) =>
  store.transaction(async (tx) => {
    for (const m of messages) await store.receive(tx, m);
  });

/** Checks one send: the handler's transaction had committed (its mark, its business row and the published row visible from another connection). */
function expectSentAfterCommit(at: SendTime, incoming: Message): void {
  expect(at.handled).toMatchObject({ id: incoming.id, status: 'processed' });
  expect(at.business).toMatchObject({ id: `biz-${incoming.id}`, status: 'received' });
  expect(at.row).toMatchObject({ id: at.published.id, status: 'pending', attempts: 1 });
  expect(at.row?.leaseUntil).not.toBeNull(); // written claimed for the after-commit attempt
}

/** These cases run the outbox and the inbox on one database; stores that name two different ones skip them, saying so. */
const c = (name: string, run: (stores: Stores) => Promise<void>): StorageCase => ({
  name: `inbox: handlers that publish: ${name}`,
  run: (stores, context) => {
    const { database: outboxDatabase } = stores.outbox;
    const { database: inboxDatabase } = stores.inbox;
    if (outboxDatabase !== undefined && inboxDatabase !== undefined && outboxDatabase !== inboxDatabase) {
      context.skip('the outbox and the inbox under test are on different databases; publishing from a handler needs one');
      return Promise.resolve();
    }
    return run(stores);
  },
});

export const handlerPublishingCases: StorageCase[] = [
  c('a message a handler adds with its tx is sent right after the handler transaction commits, without a poll', async (stores) => {
    const { seen, outbox, inboxStore, outboxStore, write } = publishing(stores);
    const added: Message[] = [];
    const inbox = createInbox({ store: inboxStore, outbox, ...quiet }).on('payment.created', async (m, { tx }) => void added.push(await write(tx, m)));
    const incoming = message('payment.created', { amount: 10 });
    await receiveAll(inboxStore, [incoming]);
    expect(await inbox.processDue()).toBe(1);
    await outbox.idle();
    expect(seen.map((s) => s.published.id)).toEqual(added.map((m) => m.id));
    expectSentAfterCommit(seen[0]!, incoming);
    expect(await outboxStore.get(added[0]!.id)).toMatchObject({ status: 'sent', attempts: 1, leaseUntil: null });
    expect((await outbox.resendUnsentMessages()).attempted).toBe(0);
  }),

  c('a handler that publishes and then throws sends nothing and leaves no row; the inbox message is retried', async (stores) => {
    const { seen, outbox, inboxStore, outboxStore, write } = publishing(stores);
    const added: Message[] = [];
    const inbox = createInbox({ store: inboxStore, outbox, ...quiet, retry: { initialDelayMs: 60_000 } }).on('payment.created', async (m, { tx }) => {
      added.push(await write(tx, m));
      throw new Error('ledger refused the booking');
    });
    const incoming = message('payment.created');
    await receiveAll(inboxStore, [incoming]);
    await inbox.processDue();
    await outbox.idle();
    expect(added).toHaveLength(1);
    expect(seen).toEqual([]);
    expect(await outboxStore.get(added[0]!.id)).toBeNull();
    expect(await inboxStore.get(businessOf(incoming))).toBeNull();
    expect((await outbox.resendUnsentMessages()).attempted).toBe(0);
    expect(seen).toEqual([]);
    expect(await inboxStore.get(incoming)).toMatchObject({ status: 'received', attempts: 1, lastError: 'ledger refused the booking' });
  }),

  c('a batch handler publishes after its one commit; a batch that throws publishes nothing and its messages, run one by one, publish once each', async (stores) => {
    const { seen, outbox, inboxStore, outboxStore, write } = publishing(stores);
    const calls: number[] = [];
    const inbox = createInbox({ store: inboxStore, outbox, ...quiet })
      .onBatch('payment.created', async (batch, { tx }) => {
        calls.push(batch.length);
        for (const m of batch) await write(tx, m);
      }, { maxMessages: 10 })
      .onBatch('payment.refunded', async (batch, { tx }) => {
        calls.push(batch.length);
        for (const m of batch) await write(tx, m);
        if (batch.length > 1) throw new Error('this batch fails as a whole');
      }, { maxMessages: 10 });
    const created = Array.from({ length: 3 }, () => message('payment.created'));
    const refunded = Array.from({ length: 3 }, () => message('payment.refunded'));
    await receiveAll(inboxStore, [...created, ...refunded]);
    expect(await inbox.processDue()).toBe(6);
    await outbox.idle();
    expect(calls.sort()).toEqual([1, 1, 1, 3, 3]);
    const sentFor = seen.map((s) => (s.published.payload as { of: string }).of).sort();
    expect(sentFor).toEqual([...created, ...refunded].map((m) => m.id).sort());
    for (const m of [...created, ...refunded]) expectSentAfterCommit(seen.find((s) => (s.published.payload as { of: string }).of === m.id)!, m);
    const rows = await outboxStore.list({ limit: 100 });
    expect(rows).toHaveLength(6); // the failed batch's three were rolled back with it
    expect(rows.every((row) => row.status === 'sent')).toBe(true);
  }),

  c('inline mode: a message the handler adds is sent right after the receiving transaction commits', async (stores) => {
    const { seen, outbox, inboxStore, write } = publishing(stores);
    const inbox = createInbox({ store: inboxStore, outbox, mode: 'inline', ...quiet }).on('payment.created', async (m, { tx }) => void (await write(tx, m)));
    const incoming = message('payment.created');
    expect(await inbox.receive(incoming)).toEqual({ status: 'created' });
    await outbox.idle();
    expect(seen).toHaveLength(1);
    expectSentAfterCommit(seen[0]!, incoming);
    const failing = createInbox({ store: inboxStore, outbox, mode: 'inline', ...quiet }).on('payment.refunded', async (m, { tx }) => {
      await write(tx, m);
      throw new Error('refund refused');
    });
    const refused = message('payment.refunded');
    await expect(failing.receive(refused)).rejects.toMatchObject({ code: 'handler_failed' });
    await outbox.idle();
    expect(seen).toHaveLength(1);
    expect(await inboxStore.get(refused)).toBeNull();
    expect((await outbox.resendUnsentMessages()).attempted).toBe(0);
  }),
];
