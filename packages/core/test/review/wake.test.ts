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
