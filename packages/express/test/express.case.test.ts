import { runServerAdapterSuite } from '@messagebox/testkit';
import { express4Harness, expressHarness } from './harness.js';
import { createSqliteInboxStore } from './sqlite-store.js';

runServerAdapterSuite(expressHarness);
runServerAdapterSuite({ ...expressHarness, name: 'express + sqlite' }, { createStore: createSqliteInboxStore });
runServerAdapterSuite(express4Harness);
