import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `\`${name}\``;

/**
 * Migration `0005_ordering_keys`: on both tables an `order_key` column, an
 * `order_seq` `AUTO_INCREMENT` column (InnoDB wants it first in an index of
 * its own; one `ALTER TABLE`, which numbers the existing rows), the index
 * `(…scope, order_key, status, order_seq)`: the claim's "no earlier row of
 * this key holds its turn" is a range of it per held status, which sent rows
 * of the key (another status) are not in. (Led by `status` instead, MariaDB
 * probed the inbox by its primary key's `source` prefix: every row of the
 * sender.) MySQL has no partial indexes, so unkeyed rows are in it too,
 * under NULL.
 *
 * Known cost: InnoDB keeps the lock of every row a locking read passes, also
 * in READ COMMITTED, so the claim's `FOR UPDATE SKIP LOCKED` scan locks the
 * keyed rows it passes over (those waiting behind an earlier message of
 * their key) until its transaction ends: with a large keyed backlog a claim
 * holds many row locks, and a concurrent `markSent` can deadlock with it
 * (the outbox retries `markSent` then).
 */
export function mysqlKeyOrderMigration(t: MessageboxTables): string[] {
  const side = (table: string, scope: string[]) =>
    `ALTER TABLE ${q(table)} ADD COLUMN ${q('order_key')} VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL, ADD COLUMN ${q('order_seq')} BIGINT NOT NULL AUTO_INCREMENT, ADD KEY ${q(`${table}_order_seq`)} (${q('order_seq')}), ADD KEY ${q(`${table}_key_order`)} (${[...scope, 'order_key', 'status', 'order_seq'].map(q).join(', ')})`;
  return [side(t.outbox, []), side(t.inbox, ['source'])];
}
