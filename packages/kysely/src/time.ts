import { MessageboxError, type Clock } from '@messagebox/core';
import { sql, type RawBuilder } from 'kysely';
import type { MessageboxDialect } from './dialect.js';

/** Store time as SQL: the database clock, or a literal from an injected clock. */
export interface StoreTime {
  now(): RawBuilder<number>;
  /** `now + ms` (ms may be negative). */
  plus(ms: number): RawBuilder<number>;
}

export function createStoreTime(dialect: MessageboxDialect, clock: Clock | undefined): StoreTime {
  const now = clock ? () => sql.lit(integer(clock.now(), 'clock.now()')) as RawBuilder<number> : () => dialect.nowMs();
  return {
    now,
    plus: (ms) => sql<number>`(${now()} + ${sql.lit(integer(ms, 'a duration'))})`,
  };
}

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
