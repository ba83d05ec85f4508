import { createInbox, createMessage, type InboxStore, type Message } from '@messagebox/core';
import { expect } from 'vitest';

/** What {@link expectGroupCommitUnderLoad} measured. */
export interface GroupCommitLoad {
  /** Receives made (new messages and resends). */
  receives: number;
  /** Statements per receive with group commit. */
  perMessage: number;
  /** Statements per receive with `groupCommit: false`, for comparison. */
  perMessageUnbatched: number;
}

/**
 * Drives `clients` concurrent callers of `inbox.receive()` (each receiving
 * its messages one after another, every fifth one twice) over `store`, checks
 * that each message was answered `created` once, every resend `duplicate`,
 * and stored once; then the same without group commit. `statements()` reads
 * a counter of every SQL statement sent (BEGIN and COMMIT included).
 *
 * @example
 * const load = await expectGroupCommitUnderLoad({ store: storage.inbox, statements: () => counter.n });
 * expect(load.perMessage).toBeLessThanOrEqual(1.2);
 */
export async function expectGroupCommitUnderLoad<Tx>(options: { store: InboxStore<Tx>; statements: () => number; clients?: number; perClient?: number }): Promise<GroupCommitLoad> {
  const { store, statements } = options;
  const clients = options.clients ?? 32;
  const perClient = options.perClient ?? 25;
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const inbox = createInbox({ store, unknownTypes: 'accept', logger: silent, retention: false });
  const messages: Message[] = Array.from({ length: clients * perClient }, (_, i) => createMessage({ type: 'load.received', payload: { i }, source: `sender-${i % 3}` }, { now: new Date() }));
  const statuses: string[] = [];
  const before = statements();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const m = messages[c * perClient + i]!;
        statuses.push((await inbox.receive(m)).status);
        if (i % 5 === 4) statuses.push((await inbox.receive(m)).status);
      }
    }),
  );
  const perMessage = (statements() - before) / statuses.length;
  expect(statuses.filter((s) => s === 'created')).toHaveLength(messages.length);
  expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(statuses.length - messages.length);
  expect((await store.stats()).received).toBe(messages.length);

  const unbatched = createInbox({ store, unknownTypes: 'accept', logger: silent, retention: false, groupCommit: false });
  const more = Array.from({ length: clients }, (_, i) => createMessage({ type: 'load.received', payload: { i }, source: 'one-by-one' }, { now: new Date() }));
  // A first transaction may ask the driver a question once per database handle (Postgres: whether a query runs several statements): not counted.
  await unbatched.receive(createMessage({ type: 'load.received', payload: { warm: true }, source: 'one-by-one' }, { now: new Date() }));
  const start = statements();
  await Promise.all(more.map((m) => unbatched.receive(m)));
  const perMessageUnbatched = (statements() - start) / more.length;
  return { receives: statuses.length, perMessage, perMessageUnbatched };
}
