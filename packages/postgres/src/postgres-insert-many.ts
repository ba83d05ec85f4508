import { executeText, insertManyOnConflictDoNothing, isConstantFragment, type AnyDb, type InsertManyIfAbsent } from '@messagebox/kysely';
import { sql, type RawBuilder } from 'kysely';

/**
 * How one column of a multi-row insert is written: an array of its values;
 * one SQL fragment every row shares; or, for rows holding one of a few
 * fragments or NULL (claimed rows' lease end beside unclaimed rows' now), an
 * array of indexes into those `choices`.
 */
type Column =
  | { name: string; array: 'text' | 'bigint'; values: unknown[] }
  | { name: string; fragment: string }
  | { name: string; choices: string[]; array: 'bigint'; values: unknown[] };

/** Most distinct fragments (NULL included) one column may choose from per row. */
const MAX_CHOICES = 4;

/** Statement texts by the columns' description; a store has a handful (claimed and unclaimed rows, keyed or not). */
const MAX_TEXTS = 64;

/**
 * The inbox's multi-row insert-if-absent as one statement whose text does
 * not depend on how many rows it carries:
 *
 *     INSERT INTO inbox (id, source, …) SELECT r.id, r.source, …, <now>, …
 *     FROM unnest($1::text[], $2::text[], …) AS r(id, source, …)
 *     ON CONFLICT DO NOTHING RETURNING source, id
 *
 * One array per column instead of one parameter per value, so the text is
 * the same for 1 or 500 rows: Postgres parses and plans it once per
 * connection (a named statement, `reused` announces it), where a `VALUES`
 * list of 100 rows (1,100 parameters) is parsed, planned and its per-row
 * time expressions evaluated on every call. Measured on this repository's
 * inbox table, 100-row batches with their handler transaction: backend CPU
 * 113–138 → 57–67 µs per message.
 *
 * A column whose rows all hold the same SQL fragment (the store's database
 * time) is written once, in the select list; one whose rows hold one of a
 * few fragments or NULL (claimed rows' lease end beside unclaimed rows'
 * now, in a batch where the after-commit queue was full) as `CASE` over an
 * index array; strings and `null` go in a `text[]` (assigned to
 * `varchar`/`text` columns), integers and `null` in a `bigint[]` (to
 * `bigint`/`integer` columns), a column of `null`s as `NULL`. Rows holding
 * anything else (an injected clock's literals, which are not constant
 * fragments; a `Date`; a column mixing fragments and values) take the
 * `VALUES` statement of
 * {@link insertManyOnConflictDoNothing}. Rows come out of `unnest` in
 * array order, so they are inserted (and their keys locked) in the order
 * the store gave them.
 */
export function insertManyWithArrays(reused?: (statement: { sql: string; key: string; parameters: number }) => void) {
  const texts = new Map<string, string>();
  const fragments = new WeakMap<object, string>();

  const fragmentSql = (db: AnyDb, fragment: RawBuilder<unknown>): string | undefined => {
    let text = fragments.get(fragment);
    if (text === undefined) {
      // Compiled on the instance without plugins: the store transaction's watcher must not wait for an answer to a statement that never runs.
      const compiled = fragment.compile(db.withoutPlugins());
      if (compiled.parameters.length > 0) return undefined;
      fragments.set(fragment, (text = compiled.sql));
    }
    return text;
  };

  return async function insertManyIfAbsent(tx: AnyDb, insert: InsertManyIfAbsent): Promise<Record<string, unknown>[]> {
    const columns = columnsOf(tx, insert.rows, fragmentSql);
    if (columns === undefined) return insertManyOnConflictDoNothing(tx, insert);
    const description = `${insert.table}\u0001${insert.key.join()}\u0001${columns.map((c) => ('fragment' in c ? `${c.name}=${c.fragment}` : 'choices' in c ? `${c.name}?${c.choices.join('\u0002')}` : `${c.name}:${c.array}`)).join('\u0001')}`;
    let text = texts.get(description);
    if (text === undefined) {
      text = statementText(tx, insert, columns);
      if (texts.size < MAX_TEXTS) texts.set(description, text);
      reused?.({ sql: text, key: 'postgres.insert-many-arrays', parameters: columns.filter((c) => 'values' in c).length });
    }
    const parameters = columns.flatMap((c) => ('values' in c ? [c.values] : []));
    const { rows } = await executeText<Record<string, unknown>>(tx, text, parameters);
    return rows;
  };
}

function columnsOf(db: AnyDb, rows: readonly Record<string, unknown>[], fragmentSql: (db: AnyDb, f: RawBuilder<unknown>) => string | undefined): Column[] | undefined {
  if (rows.length === 0) return undefined;
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row)) names.add(name);
  const columns: Column[] = [];
  for (const name of names) {
    if (rows.some((row) => row[name] !== null && typeof row[name] === 'object')) {
      const column = fragmentColumn(db, rows, name, fragmentSql);
      if (column === undefined) return undefined;
      columns.push(column);
      continue;
    }
    let array: 'text' | 'bigint' | undefined;
    const values: unknown[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const value = rows[i]![name];
      if (value === undefined || value === null) {
        values[i] = null;
        continue;
      }
      const kind = typeof value === 'string' && !value.includes('\u0000') ? 'text' : typeof value === 'number' && Number.isSafeInteger(value) ? 'bigint' : undefined;
      if (kind === undefined || (array !== undefined && array !== kind)) return undefined;
      array = kind;
      values[i] = value;
    }
    columns.push(array === undefined ? { name, fragment: 'NULL' } : { name, array, values });
  }
  return columns;
}

/** A column holding SQL fragments: one shared by every row, or per row one of a few (NULL among them); undefined when it mixes in plain values. */
function fragmentColumn(db: AnyDb, rows: readonly Record<string, unknown>[], name: string, fragmentSql: (db: AnyDb, f: RawBuilder<unknown>) => string | undefined): Column | undefined {
  const texts = new Map<unknown, string>();
  for (const row of rows) {
    const value = row[name] ?? null;
    if (texts.has(value)) continue;
    if (value === null) texts.set(null, 'NULL');
    // Only the store's constant fragments (database time): an injected clock's literals, a Date or anything else take the VALUES statement.
    else if (!isConstantFragment(value)) return undefined;
    else {
      const text = fragmentSql(db, value as RawBuilder<unknown>);
      if (text === undefined) return undefined;
      texts.set(value, text);
    }
    if (texts.size > MAX_CHOICES) return undefined;
  }
  if (texts.size === 1) return { name, fragment: texts.values().next().value! };
  const choices = [...new Set(texts.values())].sort();
  const index = new Map([...texts].map(([value, text]) => [value, choices.indexOf(text)]));
  return { name, choices, array: 'bigint', values: rows.map((row) => index.get(row[name] ?? null)) };
}

function statementText(db: AnyDb, insert: InsertManyIfAbsent, columns: Column[]): string {
  const arrays = columns.filter((c): c is Extract<Column, { values: unknown[] }> => 'values' in c);
  const query = sql`insert into ${sql.table(insert.table)} (${sql.join(columns.map((c) => sql.ref(c.name)))}) select ${sql.join(
    columns.map((c) =>
      'fragment' in c
        ? sql.raw(c.fragment)
        : 'choices' in c
          ? sql`case r.${sql.ref(c.name)} ${sql.join(c.choices.map((choice, i) => sql.raw(`when ${i} then ${choice}`)), sql` `)} end`
          : sql`r.${sql.ref(c.name)}`,
    ),
  )} from unnest(${sql.join(arrays.map((c, i) => sql.raw(`$${i + 1}::${c.array}[]`)))}) as r(${sql.join(arrays.map((c) => sql.ref(c.name)))}) on conflict do nothing returning ${sql.join(
    insert.key.map((k) => sql.ref(k)),
  )}`;
  return query.compile(db.withoutPlugins()).sql;
}
