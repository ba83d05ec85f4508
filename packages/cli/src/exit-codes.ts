/**
 * Exit codes of the `messagebox` command.
 *
 * @example
 * messagebox resend || echo "resend pass failed with $?"
 */
export const ExitCode = {
  /** Done. For `resend`: the pass ran, even if receivers were down (those messages are retried later). */
  ok: 0,
  /** The operation failed: database unreachable, tables missing, a store error; `worker`: in-flight work outlived the shutdown timeout; `dead show`: no such message. */
  failed: 1,
  /** Wrong usage: unknown command or option, bad value. */
  usage: 2,
  /** The config: no config file, it failed to load, or it exports nothing usable. */
  config: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const exitCodesHelp = `
Exit codes:
  0  done (resend: the pass ran, even when receivers were down)
  1  the operation failed (database unreachable, tables missing, store error;
     worker: work still in flight when the shutdown timeout ran out;
     dead show: no such message)
  2  wrong usage (unknown command or option, bad value)
  3  config problem (no config file, it failed to load, it exports nothing usable)`;
