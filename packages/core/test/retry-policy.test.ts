import { describe, expect, it } from 'vitest';
import { backoffDelay, createRetryPolicy, decideRetry, longestRetrySpanMs } from '../src/index.js';

describe('retry policy', () => {
  const policy = createRetryPolicy({ initialDelayMs: 100, factor: 3, maxDelayMs: 1_000, jitter: 0.5, maxAttempts: 5 });

  it('grows exponentially up to the cap (no jitter at random = 0.5)', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, mid))).toEqual([100, 300, 900, 1_000, 1_000]);
  });

  it('spreads by ±jitter with the injected random', () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(150);
    expect(backoffDelay(policy, 2, () => 0.999999)).toBe(450);
  });

  it('gives up after maxAttempts, or at once for a permanent failure', () => {
    expect(decideRetry(policy, { attempts: 4, ageMs: 0 }, () => 0.5)).toEqual({ retry: true, delayMs: 1_000 });
    expect(decideRetry(policy, { attempts: 5, ageMs: 0 })).toMatchObject({ retry: false, reason: 'gave up after 5 attempts' });
    expect(decideRetry(policy, { attempts: 1, ageMs: 0, retryable: false })).toMatchObject({ retry: false });
  });

  it('honours retryAfterMs, capped at maxDelayMs, and maxAgeMs', () => {
    expect(decideRetry(policy, { attempts: 1, ageMs: 0, retryAfterMs: 700 })).toEqual({ retry: true, delayMs: 700 });
    expect(decideRetry(policy, { attempts: 1, ageMs: 0, retryAfterMs: 60_000 })).toEqual({ retry: true, delayMs: 1_000 });
    const aged = createRetryPolicy({ maxAgeMs: 5_000 });
    expect(decideRetry(aged, { attempts: 1, ageMs: 5_000 })).toMatchObject({ retry: false });
  });

  it('computes the longest retry span', () => {
    expect(longestRetrySpanMs(policy)).toBe(150 + 450 + 1_350 + 1_500);
  });

  it.each([
    [{ factor: 0.5 }, /factor/],
    [{ maxAttempts: 0 }, /maxAttempts/],
    [{ jitter: 2 }, /jitter/],
    [{ initialDelayMs: 10, maxDelayMs: 5 }, /maxDelayMs/],
  ])('rejects nonsense %j', (options, message) => {
    expect(() => createRetryPolicy(options)).toThrow(message);
  });
});
