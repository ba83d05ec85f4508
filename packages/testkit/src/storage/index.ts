export { runStorageConformance, skipProblems, storageCaseNames, storageCases } from './run-storage-conformance.js';
export type { StorageCase, StorageConformanceOptions, StorageUnderTest } from './types.js';
export { requireDatabase } from './require-database.js';
export * from './drain/index.js';
