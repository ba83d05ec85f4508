import { runCliSuite } from './cli.case.js';
import { createPostgresDatabase } from './support/databases.js';

runCliSuite('Postgres', createPostgresDatabase);
