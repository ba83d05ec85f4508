/**
 * Where services read the time. Inject one in tests to control time; stores
 * that can use their database's clock do so unless given one explicitly.
 *
 * @example
 * let now = Date.parse('2030-01-01T00:00:00Z');
 * const clock: Clock = { now: () => now };
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
