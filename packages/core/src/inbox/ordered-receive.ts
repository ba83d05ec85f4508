import type { InboxEntry, InboxOrderingKey, InboxStore } from '../ports/inbox-store.js';
import type { ResolvedOrdering } from '../ordering/ordering-options.js';
import { distinctKeys, stepAside } from '../ordering/step-aside.js';

const orderName = (key: InboxOrderingKey) => JSON.stringify([key.source, key.key]);

/**
 * `entries` with the claim taken off those that must step aside so that
 * each `(source, key)` is handled in the order received: a keyed entry whose
 * key has an earlier message unprocessed (received, retrying, in flight; or
 * dead, when dead blocks), asked of the store inside `tx` (one statement,
 * only when a claimed entry has a key), and every keyed entry after the
 * first of its key among `entries`. `aside[i]` is true for an entry whose
 * claim was taken off. A store without `blockedKeys` gets every keyed entry
 * left to the worker.
 */
export async function inReceiveOrder<Tx>(store: InboxStore<Tx>, tx: Tx, entries: readonly InboxEntry[], ordering: ResolvedOrdering): Promise<{ entries: InboxEntry[]; aside: boolean[] }> {
  const aside = entries.map(() => false);
  if (!entries.some((e) => e.claim && e.message.key !== undefined)) return { entries: [...entries], aside };
  const messages = entries.map((e) => e.message);
  const keys = distinctKeys(messages, (m) => ({ source: m.source, key: m.key }), orderName);
  const blocked = new Set((store.blockedKeys ? await store.blockedKeys(tx, keys, { deadKey: ordering.deadKey }) : keys).map(orderName));
  const stepping = stepAside(messages, blocked, (m) => orderName({ source: m.source, key: m.key! }));
  const result = entries.map((entry, i) => {
    if (!entry.claim || !stepping.has(entry.message)) return entry;
    aside[i] = true;
    return { message: entry.message };
  });
  return { entries: result, aside };
}
