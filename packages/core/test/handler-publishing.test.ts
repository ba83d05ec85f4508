import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createMessage, createOutbox, MemoryDatabase, type Outbox } from '../src/index.js';
import { manualClock, recordingTransport, silent } from './support.js';

const quiet = { logger: silent, retention: false as const, pollIntervalMs: 3_600_000 };
const message = () => createMessage({ type: 'payment.created', payload: { amount: 1 } }, { source: 'vault', now: new Date() });

describe('createInbox({ outbox }): handlers that publish', () => {
  it('sends what a handler adds right after its commit (the outbox worker never started)', async () => {
    const database = new MemoryDatabase();
    const transport = recordingTransport();
    const outbox = createOutbox({ store: createMemoryOutboxStore({ database }), source: 'ledger', ...quiet }).configure('ledger.booked', { transport });
    const store = createMemoryInboxStore({ database });
    const inbox = createInbox({ store, outbox, ...quiet }).on('payment.created', async (m, { tx }) => void (await outbox.add(tx, { type: 'ledger.booked', payload: { of: m.id } })));
    const m = message();
    await inbox.receive(m);
    await inbox.idle();
    await outbox.idle();
    expect(transport.delivered.map((d) => d.payload)).toEqual([{ of: m.id }]);
    expect(await store.get(m)).toMatchObject({ status: 'processed' });
  });

  it('publishes nothing when the handler succeeded but its claim was lost meanwhile (its transaction rolls back)', async () => {
    const clock = manualClock();
    const database = new MemoryDatabase();
    const transport = recordingTransport();
    const outboxStore = createMemoryOutboxStore({ database, clock });
    const outbox = createOutbox({ store: outboxStore, source: 'ledger', clock, ...quiet }).configure('ledger.booked', { transport });
    const store = createMemoryInboxStore({ database, clock });
    const inbox = createInbox({ store, outbox, clock, leaseMs: 1_000, ...quiet }).on('payment.created', async (m, { tx }) => {
      await outbox.add(tx, { type: 'ledger.booked', payload: { of: m.id } });
      clock.advance(2_000); // the handler outlived its lease, and another worker took the message over
      expect(await store.claimDue({ token: 'other-worker', leaseMs: 60_000, limit: 1 })).toHaveLength(1);
    });
    const m = message();
    await store.transaction((tx) => store.receive(tx, m));
    await inbox.processDue();
    await outbox.idle();
    expect(transport.attempts).toEqual([]);
    expect(await outboxStore.list({})).toEqual([]);
    expect(await store.get(m)).toMatchObject({ status: 'received', attempts: 2 });
  });

  it('refuses an outbox whose store is on another database, saying why and what to do', () => {
    const outbox = createOutbox({ store: createMemoryOutboxStore({ database: new MemoryDatabase() }), ...quiet });
    const store = createMemoryInboxStore({ database: new MemoryDatabase() });
    expect(() => createInbox({ store, outbox, ...quiet })).toThrow(expect.objectContaining({ code: 'invalid_options', message: expect.stringMatching(/^\[messagebox\] createInbox: `outbox` uses another database \(another Kysely instance\) than the inbox store/) }));
  });

  it('refuses an `outbox` that is not an outbox', () => {
    const store = createMemoryInboxStore();
    const notAnOutbox = { store: {} } as unknown as Outbox<never>;
    expect(() => createInbox({ store, outbox: notAnOutbox as never, ...quiet })).toThrow(expect.objectContaining({ code: 'invalid_options', message: expect.stringContaining('`outbox` must be an outbox') }));
  });

  it('without `outbox`, a handler that adds with its tx leaves the message to the outbox worker (written unclaimed, not sent at commit)', async () => {
    const database = new MemoryDatabase();
    const transport = recordingTransport();
    const outboxStore = createMemoryOutboxStore({ database });
    const outbox = createOutbox({ store: outboxStore, source: 'ledger', ...quiet }).configure('ledger.booked', { transport });
    const inbox = createInbox({ store: createMemoryInboxStore({ database }), ...quiet }).on('payment.created', async (m, { tx }) => void (await outbox.add(tx, { type: 'ledger.booked', payload: { of: m.id } })));
    await inbox.receive(message());
    await inbox.idle();
    await outbox.idle();
    expect(transport.delivered).toEqual([]);
    expect((await outboxStore.list({}))[0]).toMatchObject({ status: 'pending', attempts: 0, leaseUntil: null });
    expect((await outbox.resendUnsentMessages()).sent).toBe(1);
  });
});
