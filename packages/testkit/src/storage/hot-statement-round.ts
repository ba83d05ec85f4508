import { createMessage, type InboxStore, type OutboxStore } from '@messagebox/core';
import { expect } from 'vitest';

/** What {@link runHotStatementRound} finished: the outbox id it marked sent and the inbox id it marked processed (source `test`). */
export interface HotStatementRound {
  sent: string;
  processed: string;
}

/**
 * One pass through the store's hot statements, each checked to have done its
 * work: an outbox `add`, a one-row claim and its `markSent`, then an inbox
 * `receiveMany` with a claim and its `markProcessed`. Round `k` uses payload
 * `k` and tokens `t<k>` / `r<k>`, so rounds of the same shape can be compared
 * (statements prepared, compiled or counted between them).
 *
 * @example
 * await runHotStatementRound(storage, 1);
 * const before = compiled.length;
 * await runHotStatementRound(storage, 2);
 * expect(compiled.length).toBe(before);
 */
export async function runHotStatementRound<OutboxTx, InboxTx>(stores: { outbox: OutboxStore<OutboxTx>; inbox: InboxStore<InboxTx> }, k: number): Promise<HotStatementRound> {
  const { outbox, inbox } = stores;
  const message = () => createMessage({ type: 'a.b', payload: k, source: 'test' }, { now: new Date() });
  await outbox.transaction((tx) => outbox.add(tx, [message()]));
  const [claimed] = await outbox.claimDue({ limit: 1, leaseMs: 30_000, token: `t${k}` });
  expect(await outbox.markSent([claimed!])).toEqual([claimed!.id]);
  const received = message();
  expect(await inbox.transaction((tx) => inbox.receiveMany!(tx, [{ message: received, claim: { token: `r${k}`, leaseMs: 30_000 } }]))).toEqual([true]);
  expect(await inbox.transaction((tx) => inbox.markProcessed(tx, { source: 'test', id: received.id, token: `r${k}` }))).toBe(true);
  return { sent: claimed!.id, processed: received.id };
}
