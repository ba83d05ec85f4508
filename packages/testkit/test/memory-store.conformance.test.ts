import { createMemoryInboxStore, createMemoryOutboxStore, MemoryDatabase } from '@messagebox/core';
import { runStorageConformance } from '../src/index.js';

runStorageConformance({
  name: 'memory',
  setup: async () => {
    const database = new MemoryDatabase(); // one database, as one SQL storage: handlers that publish write both stores in one transaction
    return { outbox: createMemoryOutboxStore({ database }), inbox: createMemoryInboxStore({ database }) };
  },
});
