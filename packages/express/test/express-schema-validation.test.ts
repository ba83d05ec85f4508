import { runSchemaValidationSuite } from '@messagebox/testkit';
import * as v from 'valibot';
import { z } from 'zod';
import { expressHarness } from './harness.js';
import { createSqliteInboxStore } from './sqlite-store.js';

const zodSchema = z.object({ id: z.string(), amount: z.number().positive() });
const valibotSchema = v.object({ id: v.string(), amount: v.pipe(v.number(), v.minValue(Number.MIN_VALUE)) });

runSchemaValidationSuite({ ...expressHarness, name: 'express + sqlite' }, { library: 'zod', schema: zodSchema, createStore: createSqliteInboxStore });
runSchemaValidationSuite({ ...expressHarness, name: 'express + sqlite' }, { library: 'valibot', schema: valibotSchema, createStore: createSqliteInboxStore });
