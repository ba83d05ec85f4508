import { existsSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { print, type CliIO } from '../output.js';
import { DATABASES, packagesFor, starterConfig, type Database } from './init-templates.js';

export function initCommand(program: Command, io: CliIO): void {
  program
    .command('init')
    .description('write a starter messagebox.config.ts for your database')
    .addOption(new Option('--database <database>', 'the database your service uses').choices(DATABASES).makeOptionMandatory())
    .option('--file <path>', 'where to write the config', 'messagebox.config.ts')
    .option('--force', 'overwrite the file if it exists')
    .addHelpText('after', '\nExamples:\n  messagebox init --database postgres\n  messagebox init --database sqlite --file ops/messagebox.config.ts')
    .action((options: { database: Database; file: string; force?: boolean }) => {
      const path = resolve(options.file);
      const shown = relative(process.cwd(), path) || path;
      if (existsSync(path) && !options.force) {
        throw new CliError(`${shown} already exists; nothing written`, { exitCode: ExitCode.usage, hint: 'pass --force to overwrite it, or --file <path> to write elsewhere' });
      }
      writeFileSync(path, starterConfig(options.database));
      print(io.out, `wrote ${shown} for ${options.database}`);
      print(io.out, `next: npm install ${packagesFor(options.database)}`);
      print(io.out, `      then \`messagebox migrate\`${shown === 'messagebox.config.ts' ? '' : ` --config ${shown}`}`);
    });
}
