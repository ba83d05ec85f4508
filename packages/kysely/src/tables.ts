import { MessageboxError } from '@messagebox/core';

/** Where the tables live: an optional schema (Postgres) and a name prefix. */
export interface TableNameOptions {
  /** Prepended to every table name. Default `messagebox_`. Letters, digits and `_` only. */
  tablePrefix?: string;
  /** Database schema holding the tables (Postgres). Default: the connection's search path. */
  schema?: string;
}

/** Resolved table names; `*Ref` are what Kysely accepts (`schema.table`). */
export interface MessageboxTables {
  readonly schema: string | undefined;
  readonly prefix: string;
  readonly outbox: string;
  readonly inbox: string;
  readonly migrations: string;
  /** The circuit breaker and busy-pause state each outbox worker writes on transitions (`messagebox status`). */
  readonly destinations: string;
  readonly outboxRef: string;
  readonly inboxRef: string;
  readonly migrationsRef: string;
  readonly destinationsRef: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Validates the naming options and derives the table names.
 *
 * @example
 * resolveTables({ tablePrefix: 'billing_' }).outbox // 'billing_outbox'
 */
export function resolveTables(options: TableNameOptions = {}): MessageboxTables {
  const prefix = options.tablePrefix ?? 'messagebox_';
  if (prefix !== '' && !NAME.test(prefix)) {
    throw new MessageboxError('invalid_options', `tablePrefix must be letters, digits and underscores, got ${JSON.stringify(prefix)}`);
  }
  const schema = options.schema;
  if (schema !== undefined && !NAME.test(schema)) {
    throw new MessageboxError('invalid_options', `schema must be letters, digits and underscores, got ${JSON.stringify(schema)}`);
  }
  const ref = (name: string) => (schema ? `${schema}.${name}` : name);
  const outbox = `${prefix}outbox`;
  const inbox = `${prefix}inbox`;
  const migrations = `${prefix}migrations`;
  const destinations = `${prefix}destinations`;
  return { schema, prefix, outbox, inbox, migrations, destinations, outboxRef: ref(outbox), inboxRef: ref(inbox), migrationsRef: ref(migrations), destinationsRef: ref(destinations) };
}
