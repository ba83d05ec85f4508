import { MessageboxError } from '@messagebox/core';
import type { AnyDb, KeyedUpdateTiming } from '@messagebox/kysely';
import { sql } from 'kysely';

/**
 * When a slow claim refreshes the planner's statistics of its table (see
 * {@link claimStatisticsKeeper}). `false` turns it off.
 */
export interface ClaimStatisticsOptions {
  /** A claim that returned a full batch, or a mark of several claimed rows (sent, processed) that changed them all, and took at least this long runs `ANALYZE` on its table. Default 10 ms (a claim the index answers takes 1–3 ms at any backlog, a mark of 100 rows by key 1–2 ms). */
  slowClaimMs?: number;
  /** At most one `ANALYZE` per table in this interval, across every process on the database (a table analyzed in it, by anyone, is left alone). Default 60,000 ms. */
  minIntervalMs?: number;
}

/** Told about each claim and each keyed mark of several rows; starts an `ANALYZE` in the background when one looks planned without statistics. */
export interface ClaimStatisticsKeeper {
  observe(db: AnyDb, table: string, claim: { rows: number; limit: number; ms: number }): void;
  /** `db` is the store's own instance (the `ANALYZE` runs on it, outside the mark's transaction). */
  observeKeyedUpdate(db: AnyDb, table: string, update: KeyedUpdateTiming): void;
}

const DEFAULTS = { slowClaimMs: 10, minIntervalMs: 60_000 };

/**
 * Keeps the claim's plan an index walk when a backlog arrives faster than
 * autovacuum analyzes. Without statistics (a new table, or a burst after a
 * quiet period) the planner estimates a handful of due rows and, rather than
 * walk the due index in order, fetches every waiting row and sorts them to
 * keep `limit`: each claim then costs O(backlog), 50 ms at 100,000 waiting
 * rows against 1.6 ms after `ANALYZE`, and a drain turns quadratic. So a
 * claim that came back full and slow starts `ANALYZE` on its table, in the
 * background on the pool (it takes a lock that blocks no reads or writes),
 * at most once per `minIntervalMs` per table. Many workers see the same slow
 * claims at once, so the refresh is shared: it runs only in the process that
 * wins a transaction-level advisory lock on the table's name, and only when
 * `pg_stat_user_tables` says no `ANALYZE` (manual or autovacuum's) ran in the
 * interval; four sender processes draining a fresh 20,000-row backlog ran
 * four `ANALYZE`s of ~0.5 s each under load before, one now.
 *
 * The inbox's processed mark of a batch (`… WHERE source = $1 AND id IN
 * (…100 ids)`) has the same weakness: without column statistics the planner
 * takes `id IN (…)` for the less selective condition (its default guess is
 * 0.5 % of the rows per value, 40 % for 100 of them, against 0.5 % for
 * `source = $1`), so it walks the primary key over every row of the sender
 * and filters the ids: 54 ms at 200,000 rows against 1.5 ms after `ANALYZE`,
 * and a batched drain whose receiver database CPU per message grew 3.5× from
 * 20,000 to 200,000 messages. A mark of several keys that changed them all
 * and was slow is taken as that sign too (a single key is always looked up
 * by both columns); so is the outbox's sent mark, which without statistics
 * reads the due index over the whole backlog. Its failure
 * (e.g. a role that does not own the table: Postgres skips it with a
 * warning) changes nothing but the plan, so it is ignored.
 */
export function claimStatisticsKeeper(options: ClaimStatisticsOptions = {}): ClaimStatisticsKeeper {
  const { slowClaimMs, minIntervalMs } = { ...DEFAULTS, ...validated(options) };
  const lastRun = new Map<string, number>();
  const keeper: ClaimStatisticsKeeper = {
    observeKeyedUpdate(db, table, update) {
      if (update.keys > 1) keeper.observe(db, table, { rows: update.rows, limit: update.keys, ms: update.ms });
    },
    observe(db, table, claim) {
      if (claim.rows < claim.limit || claim.ms < slowClaimMs) return;
      const now = Date.now();
      const last = lastRun.get(table);
      if (last !== undefined && now - last < minIntervalMs) return;
      lastRun.set(table, now);
      analyzeUnlessRecent(db, table, minIntervalMs).catch(() => {});
    },
  };
  return keeper;
}

/** `ANALYZE table` in a transaction holding the table's advisory lock, unless another process holds it or the table was analyzed within `intervalMs`. */
function analyzeUnlessRecent(db: AnyDb, table: string, intervalMs: number): Promise<void> {
  const quoted = table.split('.').map((part) => `"${part.replaceAll('"', '""')}"`).join('.');
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ due: boolean }>`select pg_try_advisory_xact_lock(hashtextextended(${`messagebox analyze ${table}`}, 0))
      and coalesce(greatest(last_analyze, last_autoanalyze) < now() - ${intervalMs} * interval '1 millisecond', true) as due
      from pg_stat_user_tables where relid = to_regclass(${quoted})`.execute(trx);
    if (rows[0]?.due) await sql`analyze ${sql.table(table)}`.execute(trx);
  });
}

function validated(options: ClaimStatisticsOptions): ClaimStatisticsOptions {
  if (options === null || typeof options !== 'object') throw new MessageboxError('invalid_options', `[messagebox] claimStatistics must be an object or false, got ${String(options)}`);
  for (const name of ['slowClaimMs', 'minIntervalMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new MessageboxError('invalid_options', `[messagebox] claimStatistics.${name} must be a finite number ≥ 0, got ${String(value)}`);
    }
  }
  return options;
}
