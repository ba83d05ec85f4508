export { createMysqlStorage, type MysqlStorageOptions } from './create-mysql-storage.js';
export { mysqlTransaction, type MysqlCallbackConnection, type MysqlPromiseConnection } from './mysql-transaction.js';
export { createMysqlDialect, mysqlDialect, type MysqlDialectOptions } from './mysql-dialect.js';
export type { MessageboxStorage } from '@messagebox/kysely';
