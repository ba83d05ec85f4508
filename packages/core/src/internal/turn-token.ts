import { newClaimToken } from '../message.js';

/**
 * Claim tokens shared by the rows claimed in one synchronous stretch of
 * code: the first call makes a token, later calls before the next microtask
 * get the same one, unless their row `key` was given one already (a second
 * copy of a message gets a token of its own, so the claim still tells which
 * copy wrote the row). The inbox writes the messages of one batch request
 * (received together, in one `map`) claimed with one token, so their
 * processed marks are one `claim_token = … AND id IN (…)` group instead of
 * one OR-ed group per message. A token fences a claim together with the
 * row's key, so rows sharing it stay apart.
 *
 * @example
 * const token = createTurnToken();
 * const [a, b, c] = [token('s/1'), token('s/2'), token('s/1')]; // a === b, c differs; after an await, a new one
 */
export function createTurnToken(): (key: string) => string {
  let current: string | undefined;
  const keys = new Set<string>();
  return (key) => {
    if (current === undefined) {
      current = newClaimToken();
      queueMicrotask(() => {
        current = undefined;
        keys.clear();
      });
    } else if (keys.has(key)) return newClaimToken();
    keys.add(key);
    return current;
  };
}
