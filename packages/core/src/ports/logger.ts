/**
 * Where messagebox writes logs. The `(fields, message)` argument order is
 * pino's, so a pino logger fits as is; {@link createConsoleLogger} adapts the
 * console.
 *
 * @example
 * import pino from 'pino';
 * createOutbox({ store, logger: pino() });
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** A {@link Logger} over `console` that prints `[messagebox] message {fields}` at or above `level` (default `warn`). */
export function createConsoleLogger(options: { level?: LogLevel; console?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'> } = {}): Logger {
  const threshold = order.indexOf(options.level ?? 'warn');
  const out = options.console ?? console;
  const at = (level: Exclude<LogLevel, 'silent'>) => (fields: Record<string, unknown>, message: string) => {
    if (order.indexOf(level) < threshold) return;
    if (Object.keys(fields).length) out[level](`[messagebox] ${message}`, fields);
    else out[level](`[messagebox] ${message}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything. */
export const silentLogger: Logger = createConsoleLogger({ level: 'silent' });
