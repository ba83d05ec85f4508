/**
 * Decides whether database tests run: resolves true when `probe` succeeds.
 * When it fails, under `CI=true` it rejects (an unreachable database is a
 * failure in CI, never a silent skip); elsewhere it prints why and resolves
 * false so the caller can skip.
 *
 * @example
 * const reachable = await requireDatabase('PostgreSQL at 127.0.0.1:5432', () => pool.query('select 1'));
 * describe.runIf(reachable)('postgres', () => { ... });
 */
export async function requireDatabase(name: string, probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    const reason = `[messagebox] ${name} is not reachable: ${error instanceof Error ? error.message : String(error)}`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: database tests must run)`, { cause: error });
    console.warn(`${reason}; skipping its tests (set CI=true to make this a failure)`);
    return false;
  }
}
