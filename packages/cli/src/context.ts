import { createOperations, describeError, type MessageboxOperations } from '@messagebox/core';
import { CliError, explainFailure } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { loadConfig, type LoadedConfig } from './load-config.js';
import { print, type CliIO } from './output.js';

/** What every command gets: the loaded config, operations over it, and where to write. */
export interface CommandContext {
  config: LoadedConfig;
  io: CliIO;
  operations(): MessageboxOperations;
}

export interface GlobalOptions {
  config?: string;
}

/** Loads the config, runs `fn`, then closes the services and the config, whatever happened. */
export async function withConfig(globals: GlobalOptions, io: CliIO, what: string, fn: (context: CommandContext) => Promise<void>): Promise<void> {
  const config = await loadConfig({ path: globals.config });
  const context: CommandContext = {
    config,
    io,
    operations: () => createOperations({ outbox: config.outbox, inbox: config.inbox }),
  };
  try {
    await fn(context);
  } catch (error) {
    throw explainFailure(error, what);
  } finally {
    await closeConfig(config, io);
  }
}

export async function closeConfig(config: LoadedConfig, io: CliIO): Promise<void> {
  try {
    await config.outbox?.close();
  } catch (error) {
    print(io.err, `[messagebox] closing the outbox failed: ${describeError(error)}`);
  }
  try {
    await config.close?.();
  } catch (error) {
    print(io.err, `[messagebox] close() in your config failed: ${describeError(error)}`);
  }
}

export function requireOutbox(config: LoadedConfig, command: string): NonNullable<LoadedConfig['outbox']> {
  if (!config.outbox) {
    throw new CliError(`\`messagebox ${command}\` needs an outbox, and your config exports none`, {
      exitCode: ExitCode.config,
      hint: 'add `outbox` (createOutbox(...) with its transports) to the object your config exports',
    });
  }
  return config.outbox;
}
