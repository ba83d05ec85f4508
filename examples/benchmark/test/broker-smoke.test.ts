import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseOptions } from '../src/options.js';
import { writeResults } from '../src/report.js';
import { runBenchmark } from '../src/run-benchmark.js';

// Not a timed test: the broker drains (outbox → RabbitMQ / NATS JetStream → inbox)
// on 50 messages, beside the HTTP one, each message counted where it should be.
const out = mkdtempSync(join(tmpdir(), 'messagebox-bench-brokers-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('drains through RabbitMQ and NATS beside HTTP in the same run, and reports them', { timeout: 300_000 }, async () => {
  const options = parseOptions(
    ['--messages=50', '--repeats=1', '--dialects=postgres', '--senders=1', '--deliveries=per-message', '--brokers=amqp,nats', '--keys=none', '--latency-samples=3', `--out=${out}`, '--quiet'],
    {},
  );
  const results = await runBenchmark(options);
  expect(results.runs.drains.map((d) => d.variant).sort()).toEqual(['postgres amqp per-message, 1 sender', 'postgres nats per-message, 1 sender', 'postgres per-message, 1 sender']);
  for (const drain of results.runs.drains) {
    expect(drain.messages).toBe(50);
    // Every message stored and handled by the receiver: a transaction per handled message at least.
    expect(drain.receiver.statements.begin).toBeGreaterThanOrEqual(50);
    expect(drain.handledMs).toBeGreaterThanOrEqual(drain.acknowledgedMs);
  }
  const md = readFileSync(writeResults(out, results)[1]!, 'utf8');
  expect(md).toContain('| postgres amqp per-message, 1 sender |');
  expect(md).toContain('| postgres nats per-message, 1 sender |');
  expect(md).toContain('amqp / nats rows:');
});

it('refuses an unknown broker', () => {
  expect(() => parseOptions(['--brokers=kafka'], {})).toThrow(/unknown broker "kafka"/);
  expect(parseOptions(['--brokers=none'], {}).brokers).toEqual([]);
  expect(parseOptions([], {}).brokers).toEqual(['amqp', 'nats']);
});
