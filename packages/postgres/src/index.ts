export {
  createPostgresStorage,
  type PostgresStorage,
  type PostgresStorageCommonOptions,
  type PostgresStorageOnDbOptions,
  type PostgresStorageOptions,
  type PostgresStorageOwnPoolOptions,
} from './create-postgres-storage.js';
export { createPostgresDialect, type PostgresDialectOptions } from './postgres-dialect.js';
export type { ClaimStatisticsOptions } from './claim-statistics.js';
export { listenForWakeUps, type ListenOptions } from './postgres-listener.js';
export { pgTransaction, type PgQuery, type PgQueryable, type PgQueryResult } from './pg-transaction.js';
export { guardPool, type GuardPoolOptions } from './postgres-pool.js';
export { namedStatementsOf, type NamedStatements } from './postgres-prepared-statements.js';
export type { MessageboxStorage } from '@messagebox/kysely';
