export { createPostgresStorage, type PostgresStorageOptions } from './create-postgres-storage.js';
export { createPostgresDialect, type PostgresDialectOptions } from './postgres-dialect.js';
export { listenForWakeUps, type ListenOptions } from './postgres-listener.js';
export type { MessageboxStorage } from '@messagebox/kysely';
