#!/usr/bin/env node
// Installed from the registry (under node_modules), runs the compiled CLI
// (dist/). In the messagebox repository itself, runs the TypeScript sources
// through tsx with the `@messagebox/source` export condition, so a stale
// build never shadows the code. MESSAGEBOX_CLI_SOURCE=1 or 0 forces either.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/main.js', import.meta.url);
const source = new URL('../src/main.ts', import.meta.url);
const installed = fileURLToPath(import.meta.url).includes(`${sep}node_modules${sep}`);
const forced = process.env.MESSAGEBOX_CLI_SOURCE;
const useDist = forced === '0' || (forced !== '1' && existsSync(fileURLToPath(dist)) && (installed || !existsSync(fileURLToPath(source))));

if (useDist) {
  await import(dist.href);
} else {
  let tsx;
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    console.error('[messagebox] @messagebox/cli is not built and tsx is not installed: run `pnpm --filter @messagebox/cli build`, or add tsx to your dev dependencies');
    process.exit(1);
  }
  const child = spawn(process.execPath, ['--conditions=@messagebox/source', '--import', tsx, fileURLToPath(source), ...process.argv.slice(2)], {
    stdio: 'inherit',
    detached: true,
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`[messagebox] could not start the CLI: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
}
