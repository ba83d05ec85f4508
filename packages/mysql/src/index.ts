export { createMysqlStorage, type MysqlStorageOptions } from './create-mysql-storage.js';
export { mysqlDialect } from './mysql-dialect.js';
export type { MessageboxStorage } from '@messagebox/kysely';
