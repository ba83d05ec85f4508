export { createSqliteStorage, type SqliteStorageOptions } from './create-sqlite-storage.js';
export { sqliteTransaction, type SqliteTransactionDatabase } from './sqlite-joined-transaction.js';
export { sqliteDialect } from './sqlite-dialect.js';
export { cacheStatements, type CacheStatementsOptions } from './sqlite-statement-cache.js';
export type { MessageboxStorage } from '@messagebox/kysely';
