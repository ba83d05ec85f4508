export { runStorageConformance, storageCaseNames, storageCases } from './run-storage-conformance.js';
export type { StorageCase, StorageConformanceOptions, StorageUnderTest } from './types.js';
