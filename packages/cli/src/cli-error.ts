import { describeError, isMessageboxError } from '@messagebox/core';
import { ExitCode } from './exit-codes.js';

/**
 * An error the CLI reports to the user: a message, what to do about it, and
 * the exit code.
 *
 * @example
 * throw new CliError('no config file found', { exitCode: ExitCode.config, hint: 'create messagebox.config.ts' });
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message.startsWith('[messagebox]') ? message : `[messagebox] ${message}`, { cause: options.cause });
    this.exitCode = options.exitCode ?? ExitCode.failed;
    this.hint = options.hint;
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  '3D000',
  '28P01',
  '28000',
  '57P03',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
]);
const MISSING_TABLE = new Set(['42P01', 'ER_NO_SUCH_TABLE', '3F000']);

function codesOf(error: unknown): { codes: string[]; text: string } {
  const codes: string[] = [];
  const texts: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown) => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if (e instanceof Error) texts.push(e.message);
    visit((e as { cause?: unknown }).cause);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) errors.forEach(visit);
  };
  visit(error);
  return { codes, text: texts.join(' ') };
}

/** Whether `error` (or one it wraps) says the database could not be reached. */
export function isDatabaseUnreachable(error: unknown): boolean {
  const { codes, text } = codesOf(error);
  return codes.some((c) => UNREACHABLE.has(c)) || /connect(ion)? (refused|terminated|timeout)|database .* does not exist|unable to open database/i.test(text);
}

/** Turns a failure of `what` (e.g. "the resend pass") into a {@link CliError} that says what to do. */
export function explainFailure(error: unknown, what: string): CliError {
  if (error instanceof CliError) return error;
  const { codes, text } = codesOf(error);
  const detail = describeError(error) || codes.join(', ') || 'unknown error';
  if (isDatabaseUnreachable(error)) {
    return new CliError(`${what} failed: could not reach the database (${detail})`, {
      cause: error,
      hint: 'check the connection settings your messagebox config uses (e.g. DATABASE_URL) and that the database is running',
    });
  }
  if (codes.some((c) => MISSING_TABLE.has(c)) || /no such table|relation .* does not exist|doesn't exist/i.test(text)) {
    return new CliError(`${what} failed: the messagebox tables do not exist (${detail})`, {
      cause: error,
      hint: 'run `messagebox migrate` first',
    });
  }
  if (isMessageboxError(error, 'invalid_options')) {
    return new CliError(error.message, { cause: error, exitCode: ExitCode.usage });
  }
  return new CliError(`${what} failed: ${detail}`, { cause: error });
}
