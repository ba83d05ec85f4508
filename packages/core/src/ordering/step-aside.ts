import type { Message } from '../message.js';

/**
 * Ordering keys to look up before messages are written already claimed
 * (sent or handled at once): one entry per distinct key, in first-seen
 * order, with `scope` telling keys of different scopes (the inbox's
 * `source`) apart. Empty when no message has a key: unkeyed messages cost
 * no statement.
 */
export function distinctKeys<K>(messages: readonly Message[], scope: (message: Message & { key: string }) => K, id: (key: K) => string): K[] {
  const seen = new Map<string, K>();
  for (const message of messages) {
    if (message.key === undefined) continue;
    const key = scope(message as Message & { key: string });
    const name = id(key);
    if (!seen.has(name)) seen.set(name, key);
  }
  return [...seen.values()];
}

/**
 * Which of `messages` must step aside (be written unclaimed, for the worker
 * to take in order) instead of going at once: a keyed message whose key is
 * `blocked` (an earlier message of it is waiting), and every keyed message
 * after the first of its key among `messages`. Unkeyed messages never do.
 *
 * @example
 * stepAside([a1, a2, b1], new Set(['b']), (m) => m.key!) // Set { a2, b1 }
 */
export function stepAside<M extends Message>(messages: readonly M[], blocked: ReadonlySet<string>, keyName: (message: M) => string): Set<M> {
  const aside = new Set<M>();
  const taken = new Set<string>();
  for (const message of messages) {
    if (message.key === undefined) continue;
    const name = keyName(message);
    if (blocked.has(name) || taken.has(name)) aside.add(message);
    else taken.add(name);
  }
  return aside;
}
