import { MessageboxError } from '@messagebox/core';
import { describe, expect, it } from 'vitest';
import { createStoreTime, integer, migrations, resolveTables, toDate, toMillis, type MessageboxDialect } from '../src/index.js';
import { DummyDriver, Kysely, sql, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';

describe('resolveTables', () => {
  it('defaults to the messagebox_ prefix and no schema', () => {
    expect(resolveTables()).toMatchObject({ schema: undefined, outbox: 'messagebox_outbox', inbox: 'messagebox_inbox', migrations: 'messagebox_migrations', outboxRef: 'messagebox_outbox' });
  });

  it('applies a prefix and a schema', () => {
    expect(resolveTables({ tablePrefix: 'billing_', schema: 'app' })).toMatchObject({ outbox: 'billing_outbox', outboxRef: 'app.billing_outbox', inboxRef: 'app.billing_inbox' });
    expect(resolveTables({ tablePrefix: '' }).outbox).toBe('outbox');
  });

  it('rejects names that are not plain identifiers', () => {
    expect(() => resolveTables({ tablePrefix: 'a-b' })).toThrow(MessageboxError);
    expect(() => resolveTables({ schema: 'x"y' })).toThrow(/schema must be letters/);
  });
});

describe('store time', () => {
  const dialect = { nowMs: () => sql<number>`db_now()` } as unknown as MessageboxDialect;

  it('reads BIGINT values given as numbers or strings', () => {
    expect(toMillis('1700000000123')).toBe(1_700_000_000_123);
    expect(toDate(null)).toBeNull();
    expect(toDate(5)?.getTime()).toBe(5);
  });

  it('rounds durations and rejects non-finite ones', () => {
    expect(integer(1.6, 'x')).toBe(2);
    expect(() => integer(Number.NaN, 'delayMs')).toThrow(/delayMs must be a finite number/);
  });

  it('uses the clock as a literal when one is given, the database clock otherwise', () => {
    const fixed = createStoreTime(dialect, { now: () => 1234 });
    const db = createStoreTime(dialect, undefined);
    const compiler = new Kysely<unknown>({
      dialect: {
        createAdapter: () => new SqliteAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (k) => new SqliteIntrospector(k),
        createQueryCompiler: () => new SqliteQueryCompiler(),
      },
    });
    expect(fixed.plus(-34).compile(compiler)).toMatchObject({ sql: '(1234 + -34)', parameters: [] });
    expect(db.plus(5).compile(compiler).sql).toBe('(db_now() + 5)');
  });

  it('lists migrations with unique names', () => {
    expect(new Set(migrations.map((m) => m.name)).size).toBe(migrations.length);
  });
});
