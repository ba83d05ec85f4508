export { createSqliteStorage, type SqliteStorageOptions } from './create-sqlite-storage.js';
export { sqliteTransaction, type SqliteTransactionDatabase } from './sqlite-joined-transaction.js';
export { sqliteDialect } from './sqlite-dialect.js';
export type { MessageboxStorage } from '@messagebox/kysely';
