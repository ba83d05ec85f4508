export { createMemoryOutboxStore, type MemoryStoreOptions } from './memory-outbox-store.js';
export { createMemoryInboxStore } from './memory-inbox-store.js';
export { MemoryDatabase, MemoryTransaction } from './memory-transaction.js';
