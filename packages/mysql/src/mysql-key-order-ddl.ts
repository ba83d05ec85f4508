import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `\`${name}\``;

/**
 * Migration `0005_ordering_keys`: on both tables an `order_key` column, an
 * `order_seq` `AUTO_INCREMENT` column (InnoDB wants it first in an index of
 * its own; one `ALTER TABLE`, which numbers the existing rows), and the index
 * `(…scope, order_key, status, order_seq)`: the claim's "no earlier row of
 * this key holds its turn" is a range of it per held status, which sent rows
 * of the key (another status) are not in. MySQL has no partial indexes, so
 * unkeyed rows are in it too, under NULL.
 */
export function mysqlKeyOrderMigration(t: MessageboxTables): string[] {
  const side = (table: string, scope: string[]) =>
    `ALTER TABLE ${q(table)} ADD COLUMN ${q('order_key')} VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL, ADD COLUMN ${q('order_seq')} BIGINT NOT NULL AUTO_INCREMENT, ADD KEY ${q(`${table}_order_seq`)} (${q('order_seq')}), ADD KEY ${q(`${table}_key_order`)} (${[...scope, 'order_key', 'status', 'order_seq'].map(q).join(', ')})`;
  return [side(t.outbox, []), side(t.inbox, ['source'])];
}
