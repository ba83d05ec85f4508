import { createOutbox, silentLogger, type Message, type OutboxStore, type Transport } from '@messagebox/core';
import { beforeEach, describe, expect, it } from 'vitest';

/** One way an application runs its own transaction (a driver or an ORM), for {@link runJoinedTransactionCases}. */
export interface JoinedTransactionWay<Tx> {
  name: string;
  /**
   * Opens a transaction of the application's own, inserts the business row
   * `id`, calls `add` with the handle that joins messagebox to it (e.g.
   * `pgTransaction(client)`), then commits, or rolls back when `end` is
   * `'rollback'` (by throwing inside an ORM's callback, say). Resolves with
   * what `add` returned, also after a rollback.
   */
  run(id: string, add: (tx: Tx) => Promise<Message>, end: 'commit' | 'rollback'): Promise<Message>;
}

/** What {@link runJoinedTransactionCases} needs. */
export interface JoinedTransactionHarness<Tx> {
  /** The outbox store under test (read after the `beforeAll` that creates it). */
  store(): OutboxStore<Tx>;
  /** The business rows with `id`, read on another connection. */
  businessRows(id: string): Promise<unknown[]>;
  ways: JoinedTransactionWay<Tx>[];
}

/**
 * For each way an application runs its own transaction: a commit keeps the
 * business row and its message (not visible to others before the commit,
 * sent by `outbox.deliver` after it), a rollback leaves neither and sends
 * nothing.
 *
 * @example
 * runJoinedTransactionCases({ store: () => storage.outbox, businessRows, ways: [{ name: 'plain pg', run: … }] });
 */
export function runJoinedTransactionCases<Tx>(harness: JoinedTransactionHarness<Tx>): void {
  let sent: Message[] = [];
  const outbox = () => {
    const transport: Transport = { name: 'recording', send: async (message) => void sent.push(message) };
    return createOutbox({ store: harness.store(), source: 'vault', logger: silentLogger, sendAfterCommit: false }).configure('payment.created', { transport });
  };
  const outboxRows = async (id: string) => (await harness.store().list({})).filter((row) => row.id === id);
  beforeEach(() => {
    sent = [];
  });

  for (const way of harness.ways) {
    describe(way.name, () => {
      it('a commit keeps the business row and its message together; the message is sent after it', async () => {
        const box = outbox();
        const id = `${way.name}-commit`;
        let before: unknown[] | undefined;
        const message = await way.run(
          id,
          async (tx) => {
            const added = await box.add(tx, { type: 'payment.created', payload: { id, amount: 100 } });
            before = await outboxRows(added.id); // another connection sees nothing yet
            return added;
          },
          'commit',
        );
        expect(before).toEqual([]);
        expect(await harness.businessRows(id)).toHaveLength(1);
        expect(await outboxRows(message.id)).toMatchObject([{ id: message.id, payload: { id, amount: 100 }, status: 'pending' }]);
        expect((await box.deliver([message])).sent).toBe(1);
        expect(sent.map((m) => m.id)).toEqual([message.id]);
        expect(await outboxRows(message.id)).toMatchObject([{ status: 'sent' }]);
      });

      it('a rollback leaves neither the business row nor the message, and nothing is sent', async () => {
        const box = outbox();
        const id = `${way.name}-rollback`;
        const message = await way.run(id, (tx) => box.add(tx, { type: 'payment.created', payload: { id } }), 'rollback');
        expect(await harness.businessRows(id)).toEqual([]);
        expect(await outboxRows(message.id)).toEqual([]);
        expect((await box.deliver([message])).sent).toBe(0);
        expect((await box.resendUnsentMessages()).attempted).toBe(0);
        expect(sent).toEqual([]);
      });
    });
  }
}
