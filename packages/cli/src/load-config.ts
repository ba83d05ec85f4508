import { existsSync } from 'node:fs';
import { basename, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Inbox, Outbox } from '@messagebox/core';
import { createJiti } from 'jiti';
import { CliError, explainFailure, isDatabaseUnreachable } from './cli-error.js';
import type { MessageboxConfig } from './define-config.js';
import { ExitCode } from './exit-codes.js';

/** File names looked for, in this order, when no `--config` is given. */
export const CONFIG_FILE_NAMES = [
  'messagebox.config.ts',
  'messagebox.config.mts',
  'messagebox.config.cts',
  'messagebox.config.js',
  'messagebox.config.mjs',
  'messagebox.config.cjs',
] as const;

/**
 * A loaded and checked config, with where it came from.
 *
 * @example
 * const { outbox, path } = await loadConfig();
 */
export interface LoadedConfig extends MessageboxConfig {
  /** Absolute path of the config file. */
  path: string;
}

/**
 * Options of {@link loadConfig}.
 *
 * @example
 * await loadConfig({ cwd: '/srv/vault', path: 'ops/messagebox.config.ts' })
 */
export interface LoadConfigOptions {
  /** The `--config` path; relative to `cwd`. */
  path?: string | undefined;
  /** Where to look for a config file. Default `process.cwd()`. */
  cwd?: string;
}

/**
 * Finds, loads (TypeScript or JavaScript, through jiti) and checks the
 * messagebox config. Throws a `CliError` (exit code 3) that says what to do
 * when there is no config, it fails to load, or it exports nothing usable
 * (exit code 1 when loading it failed because the database is unreachable).
 *
 * @example
 * const config = await loadConfig({ path: 'ops/messagebox.config.ts' });
 * await config.outbox?.resendUnsentMessages();
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const path = findConfig(options.path, cwd);
  const shown = relative(cwd, path) || basename(path);
  let module: unknown;
  try {
    const jiti = createJiti(import.meta.url, { tryNative: true, interopDefault: false });
    module = await jiti.import(pathToFileURL(path).href);
  } catch (error) {
    const explained = explainFailure(error, `loading ${shown}`);
    throw new CliError(explained.message, {
      exitCode: isDatabaseUnreachable(error) ? ExitCode.failed : ExitCode.config,
      cause: error,
      hint: explained.hint ?? 'fix this error in your config file (it is loaded with jiti: TypeScript is compiled on the fly)',
    });
  }
  let config: unknown = pickExport(module);
  try {
    if (typeof config === 'function') config = await (config as () => unknown)();
  } catch (error) {
    const explained = explainFailure(error, `the config function in ${shown}`);
    throw new CliError(explained.message, {
      exitCode: isDatabaseUnreachable(error) ? ExitCode.failed : ExitCode.config,
      cause: error,
      hint: explained.hint ?? 'fix this error in the function your config exports',
    });
  }
  return { ...checkConfig(config, shown), path };
}

function findConfig(given: string | undefined, cwd: string): string {
  const fromEnv = given ?? process.env['MESSAGEBOX_CONFIG'];
  if (fromEnv) {
    const path = resolve(cwd, fromEnv);
    if (!existsSync(path)) {
      throw new CliError(`config file ${path} does not exist`, { exitCode: ExitCode.config, hint: 'check the --config path (or MESSAGEBOX_CONFIG)' });
    }
    return path;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  throw new CliError(`no messagebox config found in ${cwd}`, {
    exitCode: ExitCode.config,
    hint: `create messagebox.config.ts there (export default defineConfig({ outbox, inbox, migrate, close }) from '@messagebox/cli'), or pass --config <path>`,
  });
}

function pickExport(module: unknown): unknown {
  if (module === null || typeof module !== 'object') return module;
  const mod = module as Record<string, unknown>;
  if ('default' in mod && mod['default'] !== undefined) {
    const inner = mod['default'];
    if (inner && typeof inner === 'object' && 'default' in inner && !('outbox' in inner) && !('inbox' in inner)) return (inner as { default: unknown }).default;
    return inner;
  }
  return mod;
}

function checkConfig(config: unknown, shown: string): MessageboxConfig {
  const usage = 'export default defineConfig({ outbox, inbox, migrate: () => storage.migrate(), close: () => db.destroy() })';
  if (config === null || typeof config !== 'object') {
    throw new CliError(`${shown} exports nothing usable (got ${config === null ? 'null' : typeof config})`, { exitCode: ExitCode.config, hint: usage });
  }
  const { outbox, inbox, migrate, close } = config as Record<string, unknown>;
  if (outbox === undefined && inbox === undefined) {
    throw new CliError(`${shown} exports neither an outbox nor an inbox`, { exitCode: ExitCode.config, hint: usage });
  }
  if (outbox !== undefined && !isOutbox(outbox)) {
    throw new CliError(`\`outbox\` in ${shown} is not an outbox service`, {
      exitCode: ExitCode.config,
      hint: 'export the result of createOutbox({ store, ... }).configure(type, { transport }), not the store itself',
    });
  }
  if (inbox !== undefined && !isInbox(inbox)) {
    throw new CliError(`\`inbox\` in ${shown} is not an inbox service`, {
      exitCode: ExitCode.config,
      hint: 'export the result of createInbox({ store, ... }).on(type, handler), not the store itself',
    });
  }
  for (const [name, value] of [['migrate', migrate], ['close', close]] as const) {
    if (value !== undefined && typeof value !== 'function') {
      throw new CliError(`\`${name}\` in ${shown} must be a function`, { exitCode: ExitCode.config, hint: usage });
    }
  }
  return config as MessageboxConfig;
}

function isOutbox(value: unknown): value is Outbox<unknown> {
  const o = value as Partial<Outbox<unknown>>;
  return typeof o?.resendUnsentMessages === 'function' && typeof o.start === 'function' && typeof o.store === 'object';
}

function isInbox(value: unknown): value is Inbox<unknown> {
  const i = value as Partial<Inbox<unknown>>;
  return typeof i?.processDue === 'function' && typeof i.start === 'function' && typeof i.store === 'object';
}
