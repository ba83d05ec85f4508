import type { Message } from '../message.js';
import type { OutboxStore } from '../ports/outbox-store.js';
import type { ResolvedOrdering } from '../ordering/ordering-options.js';
import { distinctKeys, stepAside } from '../ordering/step-aside.js';

/**
 * The ids of `messages` that the after-commit path must leave to the worker
 * so that each key keeps its order: keyed messages whose key has an earlier
 * message waiting (asked of the store inside `tx`, one statement, only when
 * some message has a key), and every keyed message after the first of its
 * key among `messages`. A store without `blockedKeys` gets every keyed
 * message left to the worker.
 */
export async function unclaimedForOrder<Tx>(store: OutboxStore<Tx>, tx: Tx, messages: readonly Message[], ordering: ResolvedOrdering): Promise<Set<string>> {
  const keys = distinctKeys(messages, (m) => m.key, (k) => k);
  if (keys.length === 0) return new Set();
  const blocked = store.blockedKeys ? new Set(await store.blockedKeys(tx, keys, { deadKey: ordering.deadKey })) : new Set(keys);
  return new Set([...stepAside(messages, blocked, (m) => m.key!)].map((m) => m.id));
}
