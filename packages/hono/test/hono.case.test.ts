import { runServerAdapterSuite } from '@messagebox/testkit';
import { honoHarness } from './harness.js';
import { createSqliteInboxStore } from './sqlite-store.js';

runServerAdapterSuite(honoHarness);
runServerAdapterSuite({ ...honoHarness, name: 'hono + sqlite' }, { createStore: createSqliteInboxStore });
