import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `"${name}"`;

/**
 * Migration `0005_ordering_keys`: on both tables an `order_key` column and a
 * partial index `(…scope, order_key)` over keyed rows that are waiting or
 * dead. Insert order is the `rowid` every row has (the dialect's
 * `orderSequenceColumn`), which SQLite appends to every index entry: the
 * claim's "no earlier row of this key holds its turn" is one range of it.
 * Unkeyed rows and sent rows never enter it.
 */
export function sqliteKeyOrderMigration(t: MessageboxTables): string[] {
  const side = (table: string, waiting: string, scope: string[]) => [
    `ALTER TABLE ${q(table)} ADD COLUMN "order_key" TEXT`,
    `CREATE INDEX IF NOT EXISTS ${q(`${table}_key_order`)} ON ${q(table)} (${[...scope, 'order_key'].map(q).join(', ')}) WHERE "order_key" IS NOT NULL AND "status" IN ('${waiting}', 'dead')`,
  ];
  return [...side(t.outbox, 'pending', []), ...side(t.inbox, 'received', ['source'])];
}
