#!/usr/bin/env node
// Type-checks and tests every package through turbo, then prints one summary
// line ("N passed, N failed, N skipped") added up from each package's Vitest
// JSON report. A failed type check counts as a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const folders = ['packages', 'examples', 'tests'].flatMap((group) =>
  existsSync(join(root, group)) ? readdirSync(join(root, group)).map((name) => join(root, group, name)) : [],
);
const reportOf = (folder) => join(folder, '.test-results', 'results.json');
for (const folder of folders) rmSync(reportOf(folder), { force: true });

const args = ['exec', 'turbo', 'run', 'typecheck', 'test', '--continue', `--concurrency=${process.env.TEST_CONCURRENCY ?? '1'}`, ...process.argv.slice(2)];
const run = spawnSync('pnpm', args, { cwd: root, stdio: 'inherit', env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env } });

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];
for (const folder of folders) {
  if (!existsSync(reportOf(folder))) continue;
  const report = JSON.parse(readFileSync(reportOf(folder), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  // A file that failed to load has no test results but counts as a failure.
  const brokenFiles = report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
  failed += brokenFiles;
  lines.push(`  ${folder.slice(root.length)}: ${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed, ${report.numPendingTests} skipped`);
}
const status = run.status ?? 1;
if (status !== 0 && failed === 0) failed = 1; // turbo failed outside any test (a type error, a crash at load)
console.log('\nTest summary by package:');
console.log(lines.join('\n'));
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status);
