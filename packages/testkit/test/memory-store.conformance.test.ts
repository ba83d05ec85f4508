import { createMemoryInboxStore, createMemoryOutboxStore } from '@messagebox/core';
import { runStorageConformance } from '../src/index.js';

runStorageConformance({
  name: 'memory',
  setup: async () => ({ outbox: createMemoryOutboxStore(), inbox: createMemoryInboxStore() }),
});
