import { MessageboxError } from '../errors.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a duration such as `90s`, `15m`, `12h`, `7d`, `2w`, `1d12h` or a
 * plain number of milliseconds. Throws `MessageboxError('invalid_options')`
 * for anything else.
 *
 * @example
 * parseDuration('7d') // 604800000
 */
export function parseDuration(text: string): number {
  const input = String(text).trim();
  if (/^\d+$/.test(input)) return Number(input);
  const parts = [...input.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy)];
  const consumed = parts.reduce((length, part) => length + part[0].length, 0);
  if (parts.length === 0 || consumed !== input.replace(/\s+$/, '').length) {
    throw new MessageboxError('invalid_options', `"${text}" is not a duration: use a number with a unit, e.g. 30s, 15m, 12h, 7d, 2w`);
  }
  return Math.round(parts.reduce((total, [, amount, unit]) => total + Number(amount) * UNITS[unit!]!, 0));
}

/**
 * Formats milliseconds for people, with the two largest units:
 * `formatDuration(93_784_000)` is `"1d 2h"`, `formatDuration(4_500)` is `"4s"`.
 *
 * @example
 * formatDuration(status.outbox.oldestPendingAgeMs ?? 0)
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  const out: string[] = [];
  let rest = Math.floor(ms / 1_000) * 1_000;
  for (const [unit, size] of units) {
    if (out.length === 2) break;
    const amount = Math.floor(rest / size);
    if (amount > 0 || out.length > 0) {
      if (amount > 0) out.push(`${amount}${unit}`);
      else break;
      rest -= amount * size;
    }
  }
  return out.join(' ');
}
