// The README's commands must keep working: run the example as a user would, on both brokers.
import { spawnSync } from 'node:child_process';
import { requireDatabase } from '@messagebox/testkit';
import { connect as natsConnect } from '@nats-io/transport-node';
import { connect as amqpConnect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AMQP_URL, NATS_URL } from '../src/brokers.js';

const cwd = new URL('..', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) => spawnSync('pnpm', args, { cwd, encoding: 'utf8', timeout: 150_000, env: { ...process.env, ...env } });

const rabbit = await requireDatabase(`RabbitMQ at ${AMQP_URL}`, async () => (await amqpConnect(AMQP_URL, { timeout: 5_000 })).close());
const nats = await requireDatabase(`NATS at ${NATS_URL}`, async () => (await natsConnect({ servers: NATS_URL, timeout: 5_000 })).close());

describe('examples/brokers', () => {
  it.runIf(rabbit)('pnpm start (RabbitMQ): every order handled exactly once by two consumers, exit 0', () => {
    const result = run(['start'], { ORDERS: '40' });
    expect(result.stdout).toContain('✔ RabbitMQ: every one of the 40 orders was handled exactly once');
    expect(result.stderr).not.toContain('✘');
    expect(result.status).toBe(0);
  }, 160_000);

  it.runIf(nats)('pnpm start:nats (NATS JetStream): every order handled exactly once by two consumers, exit 0', () => {
    const result = run(['start:nats'], { ORDERS: '40' });
    expect(result.stdout).toContain('✔ NATS JetStream: every one of the 40 orders was handled exactly once');
    expect(result.stderr).not.toContain('✘');
    expect(result.status).toBe(0);
  }, 160_000);

  it('a broker that cannot be reached, an unknown broker or a bad ORDERS: a clear message and a non-zero exit', () => {
    const down = run(['start'], { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' });
    expect(down.stderr).toMatch(/✘ Cannot reach RabbitMQ at amqp:\/\/guest:guest@127\.0\.0\.1:1/);
    expect(down.status).toBe(1);
    const unknown = run(['exec', 'tsx', '--conditions=@messagebox/source', 'src/main.ts', '--broker=kafka']);
    expect(unknown.stderr).toContain('✘ --broker must be amqp or nats, got "kafka"');
    expect(unknown.status).toBe(2);
    const bad = run(['start'], { ORDERS: 'many' });
    expect(bad.stderr).toContain('✘ ORDERS must be a positive integer');
    expect(bad.status).toBe(2);
  }, 160_000);
});
