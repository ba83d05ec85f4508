import { formatDuration, parseDuration } from '@messagebox/core';
import { InvalidArgumentError, Option } from 'commander';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

/** Help text shared by every duration option: what is accepted, and that a bare number is not. */
export const DURATION_HELP = 'durations need a unit: 500ms, 30s, 15m, 12h, 7d, 2w';

/**
 * Parses a duration option. A bare number is refused (is `30` seconds or
 * milliseconds?); the error says how to write what was probably meant.
 */
export function duration(value: string): number {
  if (/^\s*\d+\s*$/.test(value)) {
    const n = Number(value.trim());
    const likely = n >= 1_000 && n % 1_000 === 0 ? `${formatDuration(n)} if you meant ${n} milliseconds` : `${n}s or ${n}m`;
    throw new InvalidArgumentError(`"${n}" has no unit: write ${n}ms, or ${likely} (${DURATION_HELP})`);
  }
  try {
    return parseDuration(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a duration (${DURATION_HELP})`);
  }
}

export function side(value: string): 'outbox' | 'inbox' {
  if (value !== 'outbox' && value !== 'inbox') throw new InvalidArgumentError('expected "outbox" or "inbox"');
  return value;
}

/** A duration option whose default `--help` shows as e.g. `30s`, the way values are written. */
export function durationOption(flags: string, description: string, defaultMs?: number): Option {
  const option = new Option(flags, description).argParser(duration);
  return defaultMs === undefined ? option : option.default(defaultMs, formatDuration(defaultMs));
}
