import { describe, expect, it } from 'vitest';
import { createMemoryInboxStore, createMemoryOutboxStore, createInbox, createOutbox, type InboxStore, type OutboxStore } from '../../src/index.js';
import type { MemoryTransaction } from '../../src/memory/index.js';
import { down, recordingTransport } from '../support.js';

const broken = () => Promise.reject(new Error('connection lost'));

function recordingLogger() {
  const errors: string[] = [];
  return { errors, logger: { debug() {}, info() {}, warn() {}, error: (_: unknown, message: string) => void errors.push(message) } };
}

describe('review: a store failing while recording an outcome', () => {
  it('outbox: is logged, never an unhandled rejection, on the after-commit path and in a resend pass', async () => {
    const inner = createMemoryOutboxStore();
    const store: OutboxStore<MemoryTransaction> = { ...inner, markSent: broken, scheduleRetry: broken, markDead: broken };
    const transport = recordingTransport();
    const { errors, logger } = recordingLogger();
    const outbox = createOutbox({ store, source: 'vault', logger }).configure('t', { transport });
    transport.failNext(down());
    await outbox.transaction(async (tx) => {
      await outbox.add(tx, { type: 't', payload: 1 }); // fails: scheduleRetry rejects
      await outbox.add(tx, { type: 't', payload: 2 }); // sent: markSent rejects
    });
    await outbox.idle();
    await expect(outbox.resendUnsentMessages()).resolves.toMatchObject({ attempted: 0 });
    expect(errors).toHaveLength(2);
  });

  it('inbox: a failing scheduleRetry is logged, never an unhandled rejection', async () => {
    const inner = createMemoryInboxStore();
    const store: InboxStore<MemoryTransaction> = { ...inner, scheduleRetry: broken, markDead: broken };
    const { errors, logger } = recordingLogger();
    const inbox = createInbox({ store, logger }).on('t', () => {
      throw new Error('handler bug');
    });
    await inbox.receive({ id: 'm1', source: 's', type: 't', payload: 1, headers: {}, createdAt: new Date() });
    await inbox.idle();
    expect(errors).toHaveLength(1);
  });
});
