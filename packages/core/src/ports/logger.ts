import { escapeControlCharacters } from '../text.js';

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

/** How {@link createConsoleLogger} writes an event: `text` (`[messagebox] message key=value …`) or `json` (one JSON object). Both are one line per event. */
export type LogFormat = 'text' | 'json';

/** Options of {@link createConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Lowest level written. Default `warn`. */
  level?: LogLevel;
  /**
   * `text` or `json`; both write one line per event. Default: the
   * `MESSAGEBOX_LOG_FORMAT` environment variable (the CLI's `--log-format`
   * sets it), else `text`.
   */
  format?: LogFormat;
  console?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'>;
}

/**
 * A {@link Logger} over `console` that writes each event at or above `level`
 * (default `warn`) as one line: `[messagebox] message is dead id=… type=…
 * attempts=3 error="…"`, or with `format: 'json'`
 * `{"time":"…","level":"warn","msg":"message is dead","id":"…",…}`. Control
 * characters in values are escaped (they often come from a remote peer).
 *
 * @example
 * createOutbox({ store, logger: createConsoleLogger({ level: 'info', format: 'json' }) });
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const threshold = order.indexOf(options.level ?? 'warn');
  const out = options.console ?? console;
  const at = (level: Exclude<LogLevel, 'silent'>) => (fields: Record<string, unknown>, message: string) => {
    if (order.indexOf(level) < threshold) return;
    const format = options.format ?? formatFromEnvironment();
    out[level](format === 'json' ? jsonLine(level, fields, message) : textLine(fields, message));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function formatFromEnvironment(): LogFormat {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['MESSAGEBOX_LOG_FORMAT'];
  return value === 'json' ? 'json' : 'text';
}

function textLine(fields: Record<string, unknown>, message: string): string {
  let line = `[messagebox] ${escapeControlCharacters(message)}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : safeJson(value);
    line += ` ${key}=${/^[^\s"=]+$/.test(text) ? escapeControlCharacters(text) : escapeControlCharacters(JSON.stringify(text))}`;
  }
  return line;
}

function jsonLine(level: string, fields: Record<string, unknown>, message: string): string {
  const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message };
  for (const [key, value] of Object.entries(fields)) if (!(key in record)) record[key] = value;
  return escapeControlCharacters(safeJson(record));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A logger that drops everything. */
export const silentLogger: Logger = createConsoleLogger({ level: 'silent' });
