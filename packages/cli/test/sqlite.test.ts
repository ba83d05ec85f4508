import { runCliSuite } from './cli.case.js';
import { createSqliteDatabase } from './support/databases.js';

runCliSuite('SQLite', createSqliteDatabase);
