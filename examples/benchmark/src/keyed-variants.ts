import type { Dialect } from './databases.js';
import type { DrainVariant } from './variants.js';

/** Key counts of the keyed drains: few keys (long per-key chains, one message of a key in flight at a time) and many. */
export const KEY_COUNTS: readonly number[] = [10, 1_000];

/**
 * Drains of messages with an ordering key (`key: k<n % keys>`), per message,
 * with the most senders of the run, beside the unkeyed drain of the same
 * sender count: what per-key ordering costs. Named `<dialect> per-message,
 * <keys> keys, N senders`, so the report shows them under the ceiling of
 * that sender count.
 *
 * @example
 * keyedDrains('postgres', 4, [1, 4], [10, 1000]) // two variants, 4 senders
 */
export function keyedDrains(dialect: Dialect, senders: number, allSenders: readonly number[], keyCounts: readonly number[]): DrainVariant[] {
  if (senders !== Math.max(...allSenders)) return [];
  return keyCounts.map((keys) => ({
    kind: 'drain' as const,
    name: `${dialect} per-message, ${keys.toLocaleString('en-US')} keys, ${senders} sender${senders > 1 ? 's' : ''}`,
    dialect,
    senders,
    delivery: 'per-message',
    keys,
  }));
}

/** Validates `--keys`: `none`, or a list of positive integers. */
export function parseKeyCounts(list: readonly string[]): number[] {
  if (list.length === 1 && list[0] === 'none') return [];
  const counts = list.map(Number);
  for (const [i, n] of counts.entries()) if (!Number.isInteger(n) || n < 1) throw new Error(`[benchmark] --keys: "${list[i]}" is not a positive integer (or none)`);
  return counts;
}
