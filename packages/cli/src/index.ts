export { defineConfig, type MessageboxConfig, type MessageboxConfigExport } from './define-config.js';
export { loadConfig, CONFIG_FILE_NAMES, type LoadConfigOptions, type LoadedConfig } from './load-config.js';
export { createProgram, runCli } from './program.js';
export { CliError } from './cli-error.js';
export { ExitCode } from './exit-codes.js';
export type { CliIO } from './output.js';
