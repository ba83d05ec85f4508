import { describeError, MessageboxError } from '@messagebox/core';
import type { AnyDb } from '@messagebox/kysely';
import { integer } from '@messagebox/kysely';
import { sql } from 'kysely';

/** What {@link applyConnectionSettings} makes true of the connection. */
export interface SqliteConnectionSettings {
  /** Switch the file to WAL (readers do not block the writer). `false` leaves the journal mode alone. */
  wal: boolean;
  /** The least busy timeout: a lower one is raised to it. */
  busyTimeoutMs: number;
}

/**
 * Sets WAL and the busy timeout on the storage's connection, then reads them
 * back; rejects with `MessageboxError` (`store_failed`) when SQLite kept
 * another journal mode. In-memory and temporary databases keep theirs: no
 * other connection can open them.
 */
export async function applyConnectionSettings(db: AnyDb, settings: SqliteConnectionSettings): Promise<void> {
  const busyTimeoutMs = integer(settings.busyTimeoutMs, 'busyTimeoutMs');
  const timeout = async () => Number((await sql<{ timeout: number }>`pragma busy_timeout`.execute(db)).rows[0]?.timeout ?? 0);
  if ((await timeout()) < busyTimeoutMs) await sql.raw(`pragma busy_timeout = ${busyTimeoutMs}`).execute(db);
  const effective = await timeout();
  if (effective < busyTimeoutMs) {
    throw new MessageboxError('store_failed', `SQLite kept a busy timeout of ${effective} ms after "pragma busy_timeout = ${busyTimeoutMs}"`);
  }
  if (!settings.wal || (await isPrivate(db))) return;
  const mode = async (statement: string) => String((await sql.raw<{ journal_mode: string }>(statement).execute(db)).rows[0]?.journal_mode ?? '').toLowerCase();
  if ((await mode('pragma journal_mode')) === 'wal') return;
  let after: string;
  try {
    after = await mode('pragma journal_mode = wal');
  } catch (error) {
    throw walError(`"pragma journal_mode = wal" failed: ${describeError(error)}`, error);
  }
  if (after !== 'wal') throw walError(`journal_mode is still "${after}"`);
}

/** An in-memory or temporary database: no other connection can open it, WAL brings nothing. */
async function isPrivate(db: AnyDb): Promise<boolean> {
  const { rows } = await sql<{ name: string; file: string }>`pragma database_list`.execute(db);
  return (rows.find((r) => r.name === 'main')?.file ?? '') === '';
}

function walError(detail: string, cause?: unknown): MessageboxError {
  return new MessageboxError(
    'store_failed',
    `SQLite did not switch the database to WAL (${detail}; another connection may have the file open in a transaction). ` +
      'Nothing else was done; the next operation tries again. Set "pragma journal_mode = wal" yourself before other connections open the file, or pass `wal: false` to createSqliteStorage to keep your journal mode.',
    { cause },
  );
}

/**
 * `store` with every method that uses the storage's own connection waiting
 * for `ready()` first. Methods given the caller's transaction (`add`,
 * `receive`, `markProcessed`) do not wait: their connection is already held,
 * and a setting applied through it would wait for that very transaction.
 */
export function afterReady<S extends object>(store: S, ready: () => Promise<void>): S {
  const gated = { ...store } as Record<string, unknown>;
  for (const [name, member] of Object.entries(store)) {
    if (typeof member !== 'function' || TAKES_CALLERS_TRANSACTION.has(name)) continue;
    gated[name] = async (...args: unknown[]) => {
      await ready();
      return (member as (...a: unknown[]) => unknown).apply(store, args);
    };
  }
  return gated as S;
}

const TAKES_CALLERS_TRANSACTION = new Set(['add', 'receive', 'markProcessed']);

/** `fn` run once; a failure is not kept, so the next call tries again. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= fn().catch((error: unknown) => {
      done = undefined;
      throw error;
    });
    return done;
  };
}
