import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseOptions } from '../src/options.js';
import { writeResults } from '../src/report.js';
import { runBenchmark } from '../src/run-benchmark.js';

// Not a timed test: it runs the whole harness on 50 messages and checks that
// every message was counted where it should be, nothing about speed.
const out = mkdtempSync(join(tmpdir(), 'messagebox-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('drains, measures its ceiling and latency, and writes JSON and Markdown', async () => {
  const options = parseOptions(['--messages=50', '--repeats=1', '--dialects=postgres', '--senders=2', '--latency-samples=3', '--brokers=none', '--keys=10', `--out=${out}`, '--quiet'], {});
  const results = await runBenchmark(options);

  expect(results.runs.drains.map((d) => d.variant).sort()).toEqual(['postgres batched, 2 senders', 'postgres per-message, 10 keys, 2 senders', 'postgres per-message, 2 senders']);
  for (const drain of results.runs.drains) {
    expect(drain.messages).toBe(50);
    expect(drain.sender.processes).toBe(2);
    // Per message the receiver begins a transaction for each handled message; batched it needs far fewer.
    // The receiver's statements split into receive and handle, the handler's own among the latter.
    const { receive, handle, handler, total } = drain.receiver.statements;
    expect(receive).toBeGreaterThan(0);
    expect(receive + handle).toBeLessThanOrEqual(total);
    expect(handler).toBeLessThanOrEqual(handle);
    if (drain.variant.includes('per-message')) {
      expect(drain.receiver.statements.total).toBeGreaterThanOrEqual(50 * 2);
      expect(drain.receiver.statements.begin).toBeGreaterThanOrEqual(50);
      expect(handler).toBeGreaterThanOrEqual(50); // one INSERT per handled message
      expect(handle).toBeGreaterThanOrEqual(50 * 3); // BEGIN, the handler's INSERT, the processed mark, COMMIT
    } else {
      expect(drain.receiver.statements.begin).toBeGreaterThan(0);
      expect(drain.receiver.statements.begin).toBeLessThan(50);
      expect(handler).toBeGreaterThan(0);
      expect(handler).toBeLessThan(50); // one INSERT per batch
    }
    expect(drain.sender.statements.total).toBeGreaterThan(0);
    expect(drain.handledMs).toBeGreaterThanOrEqual(drain.acknowledgedMs);
    expect(drain.receiver.pgTransactionsPerMessage).toBeGreaterThan(0);
    // Every process reports its heap after a full GC once drained (what the --full drains compare), below its peak RSS.
    for (const side of [drain.sender, drain.receiver]) {
      expect(side.heapAfterGcMiB).toBeGreaterThan(0);
      expect(side.heapAfterGcMiB).toBeLessThan(side.peakRssMiB);
    }
  }
  expect(results.runs.ceilings.map((c) => c.variant).sort()).toEqual(['postgres ceiling, 2 clients']);
  for (const ceiling of results.runs.ceilings) expect(ceiling.server.statements).toMatchObject({ total: 150, begin: 50, commit: 50 });
  expect(results.runs.latency).toHaveLength(1);
  for (const latency of results.runs.latency) expect(latency.commitToHandlerStartMs.p50).toBeGreaterThan(0);
  expect(results.summary.drains.every((d) => Number.isFinite(d.acknowledgedVsCeiling))).toBe(true);

  const [json, md] = writeResults(out, results);
  expect(JSON.parse(readFileSync(json!, 'utf8')).runs.drains).toHaveLength(3);
  expect(readFileSync(md!, 'utf8')).toContain('| postgres per-message, 2 senders |');
  expect(readFileSync(md!, 'utf8')).toContain('| postgres batched, 2 senders |');
  expect(readFileSync(md!, 'utf8')).toContain('| variant | receive (≤ 1.2) |');
  expect(existsSync(md!)).toBe(true);
});
