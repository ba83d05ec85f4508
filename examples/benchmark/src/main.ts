// `pnpm bench` in this package: builds the packages, then runs this file with
// plain node on their built dist/ code. See README.md.
import { readFileSync } from 'node:fs';
import { cleanUpEverything, cleanUpOnSignals, interruptedBy } from './cleanup.js';
import { parseOptions } from './options.js';
import { markdown, writePartialRuns, writeResults } from './report.js';
import { runBenchmark } from './run-benchmark.js';

cleanUpOnSignals();
try {
  const from = process.argv.find((a) => a.startsWith('--from-json='));
  if (from) {
    // Renders the tables of an earlier run again: node dist/main.js --from-json=bench-results/end-to-end.json
    console.log(markdown(JSON.parse(readFileSync(from.slice('--from-json='.length), 'utf8'))));
    process.exit(0);
  }
  const options = parseOptions(process.argv.slice(2));
  const results = await runBenchmark(options, (runs) => writePartialRuns(options.outDir, runs));
  console.log(`\n${markdown(results)}`);
  for (const file of writeResults(options.outDir, results)) console.log(`[benchmark] written to ${file}`);
} catch (error) {
  const signal = interruptedBy();
  if (!signal) console.error(error instanceof Error ? error.message : String(error));
  await cleanUpEverything();
  process.exit(signal === 'SIGINT' ? 130 : signal ? 143 : 1);
}
