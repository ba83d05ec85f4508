import { MessageboxError, type Clock } from '@messagebox/core';
import { sql, type RawBuilder } from 'kysely';
import { constantFragment } from './statement-shape.js';
import type { MessageboxDialect } from './dialect.js';

/** Store time as SQL: the database clock, or a literal from an injected clock. */
export interface StoreTime {
  now(): RawBuilder<number>;
  /** `now + ms` (ms may be negative). */
  plus(ms: number): RawBuilder<number>;
}

/**
 * Database time is one constant fragment, and `plus(ms)` one per duration
 * (up to {@link MAX_DURATIONS} of them), so statements holding them compile
 * once (see `StatementCache`). An injected clock's time is a literal that
 * changes with every call: statements holding it are built per call.
 */
export function createStoreTime(dialect: MessageboxDialect, clock: Clock | undefined): StoreTime {
  const plus = (now: RawBuilder<number>, ms: number) => sql<number>`(${now} + ${sql.lit(integer(ms, 'a duration'))})`;
  if (clock) {
    const now = () => sql.lit(integer(clock.now(), 'clock.now()')) as RawBuilder<number>;
    return { now, plus: (ms) => plus(now(), ms) };
  }
  const now = constantFragment(dialect.nowMs());
  const durations = new Map<number, RawBuilder<number>>();
  return {
    now: () => now,
    plus: (ms) => {
      const rounded = integer(ms, 'a duration');
      let fragment = durations.get(rounded);
      if (fragment) return fragment;
      fragment = plus(now, rounded);
      if (durations.size < MAX_DURATIONS) durations.set(rounded, constantFragment(fragment));
      return fragment;
    },
  };
}

/** Durations (leases, retry delays) whose `plus` fragment is kept; more, e.g. jittered delays, are built per call. */
const MAX_DURATIONS = 64;

/** A finite number rounded to an integer, safe to inline as a literal. */
export function integer(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MessageboxError('invalid_options', `${what} must be a finite number of milliseconds, got ${String(value)}`);
  }
  return Math.round(value);
}

/** Reads a BIGINT column (number, or string from pg) as a number. */
export function toMillis(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

export function toDate(value: number | string | bigint | null): Date | null {
  return value === null ? null : new Date(toMillis(value));
}
