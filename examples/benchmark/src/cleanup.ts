import { killAllChildren } from './children.js';
import { assertNotInterrupted, markInterrupted } from './interrupt.js';

const pending = new Set<() => Promise<void>>();
let everything: Promise<void> | undefined;
export { interruptedBy } from './interrupt.js';

function once(fn: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () =>
    (running ??= fn().then(
      () => undefined,
      (error) => console.error(`[benchmark] cleanup failed: ${(error as Error).message}`),
    ));
}

/** Runs `fn` with `cleanup` registered, so an interrupted benchmark still runs it; runs it once at the end either way. */
export async function withCleanup<T>(cleanup: () => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  assertNotInterrupted('another run');
  const run = once(cleanup);
  pending.add(run);
  try {
    return await fn();
  } finally {
    await run();
    pending.delete(run);
  }
}

/** Kills every child and runs every registered cleanup (databases, files); callers share one pass. */
export function cleanUpEverything(): Promise<void> {
  return (everything ??= (async () => {
    killAllChildren();
    await Promise.all([...pending].map((run) => run()));
  })());
}

/** On SIGINT/SIGTERM: kill the children, drop the databases, exit 130/143. */
export function cleanUpOnSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      markInterrupted(signal);
      killAllChildren();
      console.error(`[benchmark] ${signal}: stopping the children and dropping the databases`);
      void cleanUpEverything().finally(() => process.exit(code));
    });
  }
}
