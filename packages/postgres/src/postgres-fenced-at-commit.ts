import { compileRequest, type FencedUpdate } from '@messagebox/kysely';
import { sql } from 'kysely';
import { inlineParameters } from './postgres-literals.js';

/**
 * What a fenced update queued at COMMIT casts to an integer when it changed
 * no row: Postgres then fails with `invalid input syntax for type integer:
 * "<this>"` (22P02), the transaction is aborted, its COMMIT never runs.
 */
export const FENCE_LOST = 'messagebox: the claim was lost';

/**
 * `MessageboxDialect.fencedUpdateAtCommit` for Postgres: the UPDATE in a CTE
 * whose SELECT fails when it changed no row, its values written as literals
 * (for the simple query protocol of `…; COMMIT`); undefined when a value
 * cannot be written so (the update then runs at once).
 *
 * @example
 * // with marked as (update … where … returning 1)
 * // select (case when count(*) > 0 then '1' else 'messagebox: the claim was lost' end)::int from marked
 */
export function postgresFencedUpdateAtCommit(update: FencedUpdate): string | undefined {
  const compiled = compileRequest(`postgres.fenced-at-commit`, update.reuse as never, (db, input) =>
    db
      .with('fenced', () => update.build(db, input).returning(sql.lit(1).as('one')))
      .selectFrom('fenced')
      .select(sql<number>`(case when count(*) > 0 then '1' else ${sql.lit(FENCE_LOST)} end)::int`.as('held')),
  );
  return inlineParameters(compiled);
}

/** Whether `error` is Postgres refusing a fenced update queued at COMMIT (see {@link FENCE_LOST}). */
export function isLostFence(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return e?.code === '22P02' && typeof e.message === 'string' && e.message.includes(FENCE_LOST);
}
