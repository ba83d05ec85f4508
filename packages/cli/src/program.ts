import { describeError } from '@messagebox/core';
import { Command, CommanderError, Option } from 'commander';
import { CliError } from './cli-error.js';
import { createRequire } from 'node:module';
import { deadCommand } from './commands/dead.js';
import { initCommand } from './commands/init.js';
import { migrateCommand } from './commands/migrate.js';
import { purgeCommand } from './commands/purge.js';
import { resendCommand } from './commands/resend.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';
import { LOG_FORMATS, loadEnvFile, useLogFormat, type LogFormat } from './environment.js';
import { ExitCode, exitCodesHelp } from './exit-codes.js';
import { print, processIO, type CliIO } from './output.js';

/** This package's version (package.json is one level above both src/ and dist/). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Builds the `messagebox` commander program; output goes to `io`. */
export function createProgram(io: CliIO = processIO): Command {
  const program = new Command('messagebox')
    .description('Operate messagebox outboxes and inboxes: migrate, resend (cron), worker, status, dead letters, purge.')
    .version(VERSION, '-V, --version', 'print the version of @messagebox/cli')
    .option('-c, --config <path>', 'config file (default: messagebox.config.{ts,mts,cts,js,mjs,cjs} in the current directory, or $MESSAGEBOX_CONFIG)')
    .option('--env-file <path>', 'load environment variables from this file (dotenv syntax) before the config; variables already set win')
    .addOption(new Option('--log-format <format>', 'log lines as text or one JSON object per line (also $MESSAGEBOX_LOG_FORMAT)').choices(LOG_FORMATS))
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => io.out.write(text), writeErr: (text) => io.err.write(text) })
    .exitOverride()
    .addHelpText(
      'after',
      `
The config file exports your configured services:
  import { defineConfig } from '@messagebox/cli';
  export default defineConfig({ outbox, inbox, migrate: () => storage.migrate(), close: () => db.destroy() });
Start one with \`messagebox init --database sqlite|postgres|mysql\`.

Durations need a unit: 500ms, 30s, 15m, 12h, 7d, 2w; a bare number is refused.
${exitCodesHelp}`,
    )
    .hook('preAction', () => {
      const globals = program.opts<{ envFile?: string; logFormat?: LogFormat }>();
      if (globals.envFile) loadEnvFile(globals.envFile);
      if (globals.logFormat) useLogFormat(globals.logFormat);
    });
  for (const add of [initCommand, migrateCommand, resendCommand, workerCommand, statusCommand, deadCommand, purgeCommand]) add(program, io);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/**
 * Runs the `messagebox` command with `argv` (without `node` and the script)
 * and resolves with its exit code; never rejects.
 *
 * @example
 * process.exitCode = await runCli(['status', '--json']);
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const program = createProgram(io);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') return ExitCode.ok;
      if (error.code === 'commander.executeSubCommandAsync') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (error instanceof CliError) {
      print(io.err, error.message);
      if (error.hint) print(io.err, `  → ${error.hint}`);
      return error.exitCode;
    }
    print(io.err, `[messagebox] unexpected error: ${describeError(error)}`);
    if (error instanceof Error && error.stack && process.env['MESSAGEBOX_DEBUG']) print(io.err, error.stack);
    return ExitCode.failed;
  }
}
