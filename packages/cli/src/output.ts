import { escapeControlCharacters } from '@messagebox/core';
import { logFormat } from './environment.js';

/**
 * Where a command writes: results to `out`, progress and diagnostics to `err`.
 *
 * @example
 * const code = await runCli(['status', '--json'], { out: process.stdout, err: process.stderr });
 */
export interface CliIO {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIO: CliIO = { out: process.stdout, err: process.stderr };

/**
 * Writes a line. Every control character but the line breaks of `text`
 * itself is escaped here (see core's `escapeControlCharacters`): stored
 * messages hold remote text (error bodies, header values), and what the CLI
 * prints must never steer the operator's terminal, whatever wrote the row.
 */
export function print(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${escapeControlCharacters(text, { keepNewlines: true })}\n`);
}

/** `text` on one line, control characters escaped (for a value inside a table or a `key  value` row). */
export function oneLine(text: string): string {
  return escapeControlCharacters(text);
}

/** Left-aligned text columns; `align` marks the columns aligned right. Cells are escaped with {@link oneLine} first. */
export function table(input: readonly (readonly string[])[], align: readonly number[] = []): string {
  const rows = input.map((row) => row.map(oneLine));
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (align.includes(i) ? cell.padStart(widths[i]!) : i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `text` on one line (whitespace runs become a space, control characters escaped), cut to `max` characters. */
export function truncate(text: string, max: number): string {
  const line = oneLine(text.replace(/\s+/g, ' '));
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * A progress line on stderr: rewritten in place on a terminal, otherwise
 * printed once per `intervalMs` and only once the operation has run that
 * long (so logs of cron jobs stay short). `MESSAGEBOX_PROGRESS_MS` sets the
 * interval (default 1 000).
 */
export function createProgress(stream: CliIO['err'], intervalMs = Number(process.env['MESSAGEBOX_PROGRESS_MS'] ?? 1_000)) {
  const tty = Boolean(stream.isTTY);
  let last = tty ? 0 : Date.now();
  let shown = '';
  return {
    update(text: string) {
      const now = Date.now();
      if (tty) {
        if (now - last < 100) return;
        stream.write(`\r\x1b[2K${text}`);
        shown = text;
      } else {
        if (now - last < intervalMs) return;
        stream.write(`${text}\n`);
      }
      last = now;
    },
    done() {
      if (tty && shown) stream.write('\r\x1b[2K');
      shown = '';
    },
  };
}

/** Indented JSON whose strings have every control character escaped (C0 by JSON itself; DEL, C1 and bidi as `\uXXXX`): still valid JSON of the same value. */
export function json(value: unknown): string {
  return escapeControlCharacters(JSON.stringify(value, null, 2), { keepNewlines: true });
}

/**
 * A log line of a long-running command (the worker): `text` as is, or with
 * `--log-format json` one JSON object `{ time, level, msg }` per line, like
 * messagebox's own console logger.
 */
export function logLine(stream: NodeJS.WritableStream, level: 'info' | 'warn' | 'error', text: string): void {
  if (logFormat() === 'json') stream.write(`${escapeControlCharacters(JSON.stringify({ time: new Date().toISOString(), level, msg: text.replace(/^\[messagebox\] /, '') }))}\n`);
  else print(stream, text);
}
