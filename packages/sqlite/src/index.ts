export { createSqliteStorage, type SqliteStorageOptions } from './create-sqlite-storage.js';
export { sqliteDialect } from './sqlite-dialect.js';
export type { MessageboxStorage } from '@messagebox/kysely';
