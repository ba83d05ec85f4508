/**
 * How long a wake-up after a keyed completion may wait for others to share
 * it. Every completion of a keyed message may free the next message of its
 * key, and a claim that finds fewer claimable rows than its limit reads the
 * whole waiting backlog (all keys but one are still held): one claim per
 * completion kept the database busy with nothing but those reads (MariaDB,
 * 50 keys, 4 workers). One claim per window serves every key freed in it.
 */
export const KEYED_WAKE_WINDOW_MS = 10;

/**
 * `wake` at most once per `windowMs`: the first call arms a timer, calls
 * during the window join it. The timer does not keep the process alive.
 *
 * @example
 * const wakeSoon = coalescedWake(() => runner.wake());
 * wakeSoon(); wakeSoon(); // one wake, 10 ms later
 */
export function coalescedWake(wake: () => void, windowMs = KEYED_WAKE_WINDOW_MS): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      wake();
    }, windowMs);
    (timer as { unref?: () => void }).unref?.();
  };
}
