/** Attempts of one completion statement (the first included). */
const ATTEMPTS = 4;
/** Pause before the second attempt; doubled for each later one. */
const FIRST_PAUSE_MS = 20;

/**
 * Runs a completion statement (`markSent`), again after a short growing
 * pause when it rejects (a deadlock the database broke, a connection that
 * dropped), up to 4 attempts; rejects with the last error. A completion that
 * is dropped leaves its rows claimed until their lease runs out, and then
 * they are sent again: seen on MariaDB, where a claim scanning past many
 * keyed rows holds their locks and `markSent` deadlocked with it (23
 * duplicate sends in 10,000). Marking sent twice is harmless: the second
 * statement finds the rows sent and marks nothing.
 */
export async function retryCompletion<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, FIRST_PAUSE_MS * 2 ** (attempt - 1)));
    }
  }
}
