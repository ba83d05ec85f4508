import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Loads `path` (dotenv syntax) into `process.env` before the config is
 * loaded; variables already set in the environment keep their value.
 */
export function loadEnvFile(path: string): void {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new CliError(`env file ${file} does not exist`, { exitCode: ExitCode.config, hint: 'check the --env-file path' });
  }
  const before = { ...process.env };
  try {
    process.loadEnvFile(file);
  } catch (error) {
    throw new CliError(`could not read env file ${file}: ${(error as Error).message}`, { exitCode: ExitCode.config, cause: error });
  }
  for (const [key, value] of Object.entries(before)) process.env[key] = value;
}

/** Makes messagebox's default console logger (and the CLI's own log lines) write `format`. */
export function useLogFormat(format: LogFormat): void {
  process.env['MESSAGEBOX_LOG_FORMAT'] = format;
}

/** The log format in effect: `--log-format`, else `$MESSAGEBOX_LOG_FORMAT`, else text. */
export function logFormat(): LogFormat {
  return process.env['MESSAGEBOX_LOG_FORMAT'] === 'json' ? 'json' : 'text';
}
