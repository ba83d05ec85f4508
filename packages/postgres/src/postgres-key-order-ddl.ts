import type { MessageboxTables } from '@messagebox/kysely';

const q = (name: string) => `"${name}"`;
const ref = (t: MessageboxTables, name: string) => (t.schema ? `${q(t.schema)}.${q(name)}` : q(name));

/**
 * Migration `0005_ordering_keys`: on both tables an `order_key` column and an
 * `order_seq` column filled from a sequence of its own at insert (rows that
 * existed before stay NULL: no table rewrite; they have no key), and a
 * partial index `(…scope, order_key, order_seq)` over keyed rows that are
 * waiting or dead only: the claim's "no earlier row of this key holds its
 * turn" is one probe of it, sent rows and unkeyed rows never enter it, and
 * an unkeyed insert costs one `nextval` and no index entry.
 */
export function postgresKeyOrderMigration(t: MessageboxTables): string[] {
  const side = (table: string, waiting: string, scope: string[]) => {
    const target = ref(t, table);
    const sequence = ref(t, `${table}_order_seq`);
    return [
      `ALTER TABLE ${target} ADD COLUMN IF NOT EXISTS "order_key" varchar(255)`,
      `CREATE SEQUENCE IF NOT EXISTS ${sequence}`,
      `ALTER TABLE ${target} ADD COLUMN IF NOT EXISTS "order_seq" bigint`,
      `ALTER TABLE ${target} ALTER COLUMN "order_seq" SET DEFAULT nextval('${sequence}')`,
      `ALTER SEQUENCE ${sequence} OWNED BY ${target}."order_seq"`,
      `CREATE INDEX IF NOT EXISTS ${q(`${table}_key_order`)} ON ${target} (${[...scope, 'order_key', 'order_seq'].map(q).join(', ')}) WHERE "order_key" IS NOT NULL AND "status" IN ('${waiting}', 'dead')`,
    ];
  };
  return [...side(t.outbox, 'pending', []), ...side(t.inbox, 'received', ['source'])];
}
