import pg from 'pg';

/** Where both services' data lives (each in its own schema). */
export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Exits with a clear message when PostgreSQL cannot be reached. */
export async function assertDatabaseReachable(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    console.error(`✘ Cannot connect to PostgreSQL at ${redact(databaseUrl)}: ${(error as Error).message}`);
    console.error('  Start PostgreSQL, or point DATABASE_URL at one, e.g.');
    console.error('  DATABASE_URL=postgres://user:password@localhost:5432/mydb pnpm --filter @messagebox/example-postgres start');
    process.exit(1);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an invalid URL)';
  }
}

/** Tells the parent process something, when there is one. */
export function tellParent(message: Record<string, unknown>): void {
  process.send?.(message);
}
