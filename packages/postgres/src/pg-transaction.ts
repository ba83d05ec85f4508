import { MessageboxError } from '@messagebox/core';
import { joinedTransaction } from '@messagebox/kysely';
import { PostgresDialect, type Transaction } from 'kysely';

/** What a query of {@link PgQuery} answers: pg's result, or just its rows (Prisma's `$queryRawUnsafe`). */
export type PgQueryResult = { rows: unknown[]; rowCount?: number | null; command?: string } | unknown[];

/**
 * Runs one statement (`$1`…`$n` placeholders, `values` in order) on the
 * connection of the caller's transaction and answers its rows.
 */
export type PgQuery = (text: string, values: unknown[]) => Promise<PgQueryResult>;

/** pg's `Client` or `PoolClient`, or anything with its `query(text, values)`. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null; command?: string }>;
}

/**
 * Joins messagebox to a PostgreSQL transaction you opened yourself: give it
 * the `pg` client on which you issued `BEGIN` (or, for an ORM, a function
 * that runs a statement in the ORM's transaction), and pass what it returns
 * to `outbox.add`. The message is written in your transaction: it exists
 * when you `COMMIT`, and never if you `ROLLBACK`. Nothing here issues
 * `BEGIN`/`COMMIT` or releases the client. After your `COMMIT`, call
 * `outbox.deliver([message])` to send at once, or leave it to the worker.
 *
 * It does not check that a transaction is open: on a client in autocommit
 * each message is committed on its own, at once.
 *
 * @example
 * const client = await pool.connect();
 * try {
 *   await client.query('BEGIN');
 *   await client.query('insert into payment (id, amount) values ($1, $2)', [id, amount]);
 *   const message = await outbox.add(pgTransaction(client), { type: 'payment.created', payload: { id, amount } });
 *   await client.query('COMMIT');
 *   await outbox.deliver([message]);
 * } catch (error) {
 *   await client.query('ROLLBACK');
 *   throw error;
 * } finally {
 *   client.release();
 * }
 *
 * @example
 * // Prisma (interactive transaction, driver adapter for pg)
 * await prisma.$transaction(async (tx) => {
 *   await tx.payment.create({ data: payment });
 *   await outbox.add(pgTransaction((text, values) => tx.$queryRawUnsafe(text, ...values)), { type: 'payment.created', payload: payment });
 * });
 */
export function pgTransaction<DB = any>(client: PgQueryable | PgQuery): Transaction<DB> {
  const query = queryOf(client);
  return joinedTransaction<DB>(client, () => {
    const connection = {
      async query(text: string, values: unknown[]) {
        const result = await query(text, values);
        return Array.isArray(result) ? { rows: result } : result;
      },
      release() {},
    };
    return new PostgresDialect({ pool: { connect: async () => connection, end: async () => undefined } as never });
  });
}

function queryOf(client: PgQueryable | PgQuery): PgQuery {
  if (typeof client === 'function') return client;
  if (client !== null && typeof client === 'object' && typeof client.query === 'function') return (text, values) => client.query(text, values);
  throw new MessageboxError(
    'invalid_options',
    `[messagebox] pgTransaction needs the pg client your transaction runs on (a Client or PoolClient, with query()) or a function (text, values) => rows, got ${client === null ? 'null' : typeof client}`,
  );
}
