import { killAllChildren } from './children.js';

const cleanups = new Set<() => Promise<unknown>>();

/** Runs `fn` with `cleanup` registered, so an interrupted benchmark still runs it; always runs it at the end. */
export async function withCleanup<T>(cleanup: () => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  cleanups.add(cleanup);
  try {
    return await fn();
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
}

/** Kills every child and runs every registered cleanup (databases, files). */
export async function cleanUpEverything(): Promise<void> {
  killAllChildren();
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    await cleanup().catch((error) => console.error(`[benchmark] cleanup failed: ${(error as Error).message}`));
  }
}

/** On SIGINT/SIGTERM: kill the children, drop the databases, exit 130/143. */
export function cleanUpOnSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`[benchmark] ${signal}: stopping the children and dropping the databases`);
      void cleanUpEverything().finally(() => process.exit(code));
    });
  }
}
