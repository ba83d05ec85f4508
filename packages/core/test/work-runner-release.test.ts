import { describe, expect, it } from 'vitest';
import { WorkRunner } from '../src/internal/work-runner.js';

/** A promise and its resolve (Promise.withResolvers is Node 22+). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('WorkRunner: giving back overflowed items', () => {
  it('retries a release that failed, so overflowed items are claimed again at once rather than after their lease', async () => {
    const released: string[][] = [];
    const processed: string[] = [];
    let releaseCalls = 0;
    let store: string[] = []; // what a claim finds: the rows given back
    const gate = deferred();
    const runner = new WorkRunner<string>(
      {
        claim: async (limit) => store.splice(0, limit),
        process: async (item) => {
          if (item === 'first') await gate.promise; // holds the only slot, so the rest overflow
          processed.push(item);
        },
        release: async (items) => {
          releaseCalls++;
          if (releaseCalls === 1) throw new Error('database is locked');
          released.push([...items]);
          store = [...store, ...items];
        },
      },
      { name: 'test', batchSize: 10, concurrency: 1, pollIntervalMs: 3_600_000, maxQueued: 1, logger: silent },
    );
    runner.start();
    runner.submit(['first', 'second', 'third', 'fourth']);
    for (let i = 0; i < 600 && released.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    gate.resolve();
    for (let i = 0; i < 600 && processed.length < 4; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await runner.stop(10_000);
    expect(releaseCalls).toBe(2);
    expect(released).toEqual([['third', 'fourth']]);
    expect(processed.sort()).toEqual(['first', 'fourth', 'second', 'third']);
  });

  it('gives up after a few failed releases and says that the rows wait for their lease', async () => {
    const errors: string[] = [];
    const logger = { ...silent, error: (_: unknown, msg: string) => void errors.push(msg) };
    let releaseCalls = 0;
    const gate = deferred();
    const runner = new WorkRunner<string>(
      {
        claim: async () => [],
        process: async () => gate.promise,
        release: async () => {
          releaseCalls++;
          throw new Error('database is locked');
        },
      },
      { name: 'test', batchSize: 10, concurrency: 1, pollIntervalMs: 3_600_000, maxQueued: 1, logger },
    );
    runner.submit(['first', 'second', 'third']);
    for (let i = 0; i < 600 && !errors.some((e) => e.includes('lease')); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    gate.resolve();
    await runner.stop(10_000);
    expect(releaseCalls).toBe(5);
    expect(errors.filter((e) => e.includes('failed; will retry'))).toHaveLength(4);
    expect(errors.at(-1)).toMatch(/giving back overflowed messages failed 5 times; they are retried once their lease runs out/);
  });

  it('never gives back items whose place was reserved before their rows were written, even when the worker loop filled the queue meanwhile', async () => {
    const released: string[] = [];
    const processed: string[] = [];
    const gate = deferred();
    let store = ['w1', 'w2', 'w3']; // rows the worker loop finds: they fill the queue while the reserved rows are being committed
    const runner = new WorkRunner<string>(
      {
        claim: async (limit) => store.splice(0, limit),
        process: async (item) => {
          await gate.promise; // every slot stays busy, so claimed items wait in the queue
          processed.push(item);
        },
        release: async (items) => void released.push(...items),
      },
      { name: 'test', batchSize: 10, concurrency: 1, pollIntervalMs: 3_600_000, maxQueued: 3, logger: silent },
    );
    const place = runner.reserve(2);
    expect(place).toBeDefined();
    runner.start();
    for (let i = 0; i < 600 && runner.busy < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runner.busy).toBe(3); // the worker claimed its rows while the place was held: one runs, two wait
    runner.submit(['fresh1', 'fresh2'], { placed: true });
    place!();
    runner.submit(['late']); // not placed: the queue is full, so it is given back
    gate.resolve();
    for (let i = 0; i < 600 && processed.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await runner.stop(10_000);
    expect(processed.sort()).toEqual(['fresh1', 'fresh2', 'w1', 'w2', 'w3']);
    expect(released).toEqual(['late']);
  });

  it('gives no places to a write of more rows than the whole queue holds, even into an empty queue: its rows are left unclaimed to the workers', () => {
    const runner = new WorkRunner<string>({ claim: async () => [], process: async () => undefined, release: async () => undefined }, { name: 'test', batchSize: 10, concurrency: 1, pollIntervalMs: 3_600_000, maxQueued: 3, logger: silent });
    expect(runner.reserve(4)).toBeUndefined();
    const place = runner.reserve(3);
    expect(place).toBeDefined();
    expect(runner.reserve(1)).toBeUndefined(); // the queue is promised full
    place!();
    expect(runner.reserve(1)).toBeDefined();
  });
});
