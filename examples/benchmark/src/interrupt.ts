let signalled: NodeJS.Signals | undefined;

/** The signal that interrupted the benchmark, if one did. */
export const interruptedBy = (): NodeJS.Signals | undefined => signalled;

export function markInterrupted(signal: NodeJS.Signals): void {
  signalled = signal;
}

/** Throws once the benchmark was interrupted: nothing new is started while it cleans up. */
export function assertNotInterrupted(what: string): void {
  if (signalled) throw new Error(`[benchmark] interrupted by ${signalled}; not starting ${what}`);
}
