import { parseDuration } from '@messagebox/core';
import { InvalidArgumentError } from 'commander';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

export function duration(value: string): number {
  if (/^\s*\d+\s*$/.test(value)) {
    const n = value.trim();
    throw new InvalidArgumentError(`"${n}" has no unit: write e.g. ${n}d, ${n}h, ${n}m or ${n}s (or ${n}ms)`);
  }
  try {
    return parseDuration(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a duration: use e.g. 30s, 15m, 12h, 7d, 2w`);
  }
}

export function side(value: string): 'outbox' | 'inbox' {
  if (value !== 'outbox' && value !== 'inbox') throw new InvalidArgumentError('expected "outbox" or "inbox"');
  return value;
}
