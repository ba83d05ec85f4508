import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { withConfig, type GlobalOptions } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { print, type CliIO } from '../output.js';

export function migrateCommand(program: Command, io: CliIO): void {
  program
    .command('migrate')
    .description('create or upgrade the messagebox tables (runs migrate() from your config; safe to run again)')
    .addHelpText('after', '\nExample:\n  messagebox migrate\n\nYour config needs: migrate: () => storage.migrate()')
    .action(async (_options: object, command: Command) => {
      await withConfig(command.optsWithGlobals<GlobalOptions>(), io, 'the migration', async ({ config }) => {
        if (!config.migrate) {
          throw new CliError('your config has no migrate()', {
            exitCode: ExitCode.config,
            hint: 'add `migrate: () => storage.migrate()` to the object your config exports',
          });
        }
        const applied = await config.migrate();
        if (Array.isArray(applied)) {
          print(io.out, applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'the database is up to date; nothing to apply');
        } else {
          print(io.out, 'migrated');
        }
      });
    });
}
