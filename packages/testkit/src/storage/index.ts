export { runStorageConformance, skipProblems, storageCaseNames, storageCases } from './run-storage-conformance.js';
export type { StorageCase, StorageConformanceOptions, StorageUnderTest } from './types.js';
export { requireDatabase } from './require-database.js';
export { createScratchDatabase, type ScratchDatabase, type ScratchDatabaseServer } from './test-database.js';
export { expectInjectedClock } from './injected-clock-case.js';
export { sqlLiteral } from './sql-literal.js';
export * from './drain/index.js';
export { expectInboxIdentityMigration, type InboxIdentityMigrationSetup } from './inbox-identity-migration-case.js';
export { expectGroupCommitUnderLoad, type GroupCommitLoad } from './group-commit-load.js';
