import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseOptions } from '../src/options.js';
import { markdown } from '../src/report.js';
import { runBenchmark } from '../src/run-benchmark.js';

// Not a timed test: it checks which parts `--only=latency` runs, nothing about speed.
const out = mkdtempSync(join(tmpdir(), 'messagebox-bench-only-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('--only=latency runs the unloaded latency and enqueue overhead alone, and its Markdown has no drain table', async () => {
  expect(() => parseOptions(['--only=drains'], {})).toThrow(/--only must be latency/);
  expect(parseOptions([], { BENCH_ONLY: 'latency' }).only).toBe('latency');
  const options = parseOptions(['--only=latency', '--full', '--repeats=1', '--dialects=sqlite', '--latency-samples=3', `--out=${out}`, '--quiet'], {});
  const results = await runBenchmark(options);
  expect(results.runs.drains).toEqual([]);
  expect(results.runs.ceilings).toEqual([]);
  expect(results.runs.full).toEqual([]);
  expect(results.runs.latency.map((l) => l.variant)).toEqual(['sqlite unloaded']);
  expect(results.runs.latency[0]!.enqueue.ratioP50).toBeGreaterThan(0);
  expect(results.runs.latency[0]!.enqueue.byHandRatioP50).toBeGreaterThan(0); // the floor: the same row written by hand
  const md = markdown(results);
  expect(md).toContain('| sqlite unloaded |');
  expect(md).toContain('by hand ×');
  expect(md).not.toContain('acknowledged msg/s');
});
