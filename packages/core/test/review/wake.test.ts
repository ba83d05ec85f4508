import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkRunner } from '../../src/internal/work-runner.js';
import { silent } from '../support.js';

afterEach(() => void vi.useRealTimers());

describe('review: worker wake-up', () => {
  it('does not lose a wake() that arrives while claiming, after a sleep that ended by its timer', async () => {
    vi.useFakeTimers();
    const claims: Array<(items: number[]) => void> = [];
    const runner = new WorkRunner<number>(
      { claim: () => new Promise((resolve) => claims.push(resolve)), process: async () => {}, release: async () => {} },
      { name: 'test', batchSize: 10, concurrency: 1, pollIntervalMs: 1_000, maxQueued: 10, logger: silent },
    );
    runner.start();
    await vi.advanceTimersByTimeAsync(0);
    claims[0]!([]); // nothing due: sleeps for the poll interval
    await vi.advanceTimersByTimeAsync(1_000); // the sleep ends by its timer; the second claim starts
    expect(claims).toHaveLength(2);
    runner.wake(); // a message was committed while the claim query ran
    claims[1]!([]);
    await vi.advanceTimersByTimeAsync(1); // the loop must claim again now, not a poll interval later
    expect(claims).toHaveLength(3);
    claims[2]!([]);
    const stopped = runner.stop(100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await stopped).toBe(true);
  });
});

describe('review: restart after a timed-out stop()', () => {
  it('runs one worker loop, not the old one too once its stuck batch finishes', async () => {
    vi.useFakeTimers();
    let claims = 0;
    let unstick!: () => void;
    const stuck = new Promise<void>((resolve) => (unstick = resolve));
    const runner = new WorkRunner<number>(
      { claim: async () => (++claims === 1 ? [1] : []), process: (item) => (item === 1 ? stuck : Promise.resolve()), release: async () => {} },
      { name: 'test', batchSize: 10, concurrency: 4, pollIntervalMs: 1_000, maxQueued: 10, logger: silent },
    );
    runner.start();
    const stopped = runner.stop(20);
    await vi.advanceTimersByTimeAsync(100);
    expect(await stopped).toBe(false);
    runner.start(); // claim 2, then sleeps
    await vi.advanceTimersByTimeAsync(0);
    unstick(); // the first loop's batch finally ends
    await vi.advanceTimersByTimeAsync(0);
    const before = claims;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(claims - before).toBe(1);
    const done = runner.stop(100);
    await vi.advanceTimersByTimeAsync(100);
    await done;
  });
});
