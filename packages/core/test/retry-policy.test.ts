import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, createRetryPolicy, decideRetry, longestRetrySpanMs, type RetryPolicy } from '../src/index.js';

describe('retry policy', () => {
  const policy = createRetryPolicy({ initialDelayMs: 100, factor: 3, maxDelayMs: 1_000, jitter: 0.5, maxAttempts: 5 });

  it('grows exponentially; random = 0.5 is the unjittered delay, and near the cap the spread is cut at maxDelayMs', () => {
    const mid = () => 0.5;
    expect([1, 2].map((n) => backoffDelay(policy, n, mid))).toEqual([100, 300]);
    expect(backoffDelay(policy, 3, mid)).toBe(725); // 900 ± 450 cut at 1 000: uniform in [450, 1 000]
    expect(backoffDelay(policy, 4, mid)).toBe(750);
    expect(backoffDelay(policy, 4, () => 0)).toBe(500);
    expect(backoffDelay(policy, 4, () => 0.999999)).toBe(1_000);
  });

  it('spreads by ±jitter with the injected random, never beyond maxDelayMs (jitter before the cap)', () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(150);
    expect(backoffDelay(policy, 2, () => 0.999999)).toBe(450);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(1_000); // 900 + 450 would be 1 350
    const wide = createRetryPolicy({ initialDelayMs: 1_000, maxDelayMs: 1_000, jitter: 0.2 });
    expect(backoffDelay(wide, 1, () => 0.999999)).toBe(1_000);
  });

  it('initialDelayMs 0 stays 0 after many attempts (0 × Infinity was NaN)', () => {
    const zero = createRetryPolicy({ initialDelayMs: 0, factor: 2, maxAttempts: 100_000 });
    expect(backoffDelay(zero, 5_000, () => 0.5)).toBe(0);
    expect(decideRetry(zero, { attempts: 5_000, ageMs: 0 }, () => 0.5)).toEqual({ retry: true, delayMs: 0 });
    const huge = createRetryPolicy({ initialDelayMs: 1, factor: 10, maxDelayMs: 60_000, maxAttempts: 100_000 });
    expect(backoffDelay(huge, 5_000, () => 0.999999)).toBe(60_000);
  });

  it('gives up after maxAttempts, or at once for a permanent failure', () => {
    expect(decideRetry(policy, { attempts: 4, ageMs: 0 }, () => 0.999999)).toEqual({ retry: true, delayMs: 1_000 });
    expect(decideRetry(policy, { attempts: 5, ageMs: 0 })).toMatchObject({ retry: false, reason: 'gave up after 5 attempts' });
    expect(decideRetry(policy, { attempts: 1, ageMs: 0, retryable: false })).toMatchObject({ retry: false });
  });

  it('honours retryAfterMs, never earlier and a little later at random, capped at maxDelayMs; and maxAgeMs', () => {
    expect(decideRetry(policy, { attempts: 1, ageMs: 0, retryAfterMs: 700 }, () => 0)).toEqual({ retry: true, delayMs: 700 });
    // jitter 0.5 of max(700, 1 000 ms) = up to 500 ms later, still under the cap
    expect(decideRetry(policy, { attempts: 1, ageMs: 0, retryAfterMs: 400 }, () => 0.5)).toEqual({ retry: true, delayMs: 650 });
    expect(decideRetry(policy, { attempts: 1, ageMs: 0, retryAfterMs: 60_000 }, () => 0.5)).toEqual({ retry: true, delayMs: 1_000 });
    const delays = Array.from({ length: 20 }, (_, i) => decideRetry(createRetryPolicy(), { attempts: 1, ageMs: 0, retryAfterMs: 30_000 }, () => i / 20));
    const ms = delays.map((d) => (d.retry ? d.delayMs : -1));
    expect(new Set(ms).size).toBe(20); // the messages one 429 refused do not all come back at the same instant
    expect(Math.min(...ms)).toBe(30_000);
    expect(Math.max(...ms)).toBeLessThanOrEqual(36_000);
    const aged = createRetryPolicy({ maxAgeMs: 5_000 });
    expect(decideRetry(aged, { attempts: 1, ageMs: 5_000 })).toMatchObject({ retry: false });
  });

  it('computes the longest retry span (jitter at its maximum, capped)', () => {
    expect(longestRetrySpanMs(policy)).toBe(150 + 450 + 1_000 + 1_000);
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

describe('retry policy: properties', () => {
  const policies: fc.Arbitrary<RetryPolicy> = fc
    .record({
      initialDelayMs: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e7, noNaN: true }), fc.integer({ min: 0, max: 10_000 })),
      extra: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e9, noNaN: true })),
      factor: fc.oneof(fc.constant(1), fc.double({ min: 1, max: 1_000, noNaN: true })),
      jitter: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
      maxAttempts: fc.integer({ min: 1, max: 1_000_000 }),
    })
    .map(({ extra, ...o }) => createRetryPolicy({ ...o, maxDelayMs: o.initialDelayMs + extra }));
  const attempts = fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 1_000_000 }));
  const randoms = fc.oneof(fc.constant(0), fc.constant(0.5), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }));
  const retryAfters = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 86_400_000 }), fc.double({ min: 0, max: 1e12, noNaN: true }), fc.constant(Number.POSITIVE_INFINITY));

  it('backoff is always finite, >= 0 and <= maxDelayMs', () => {
    fc.assert(
      fc.property(policies, attempts, randoms, (p, n, r) => {
        const delay = backoffDelay(p, n, () => r);
        expect(Number.isFinite(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(p.maxDelayMs);
      }),
      { numRuns: 2_000 },
    );
  });

  it('backoff stays within ±jitter of the capped exponential delay', () => {
    fc.assert(
      fc.property(policies, attempts, randoms, (p, n, r) => {
        const grown = p.initialDelayMs * p.factor ** (n - 1);
        const raw = p.initialDelayMs === 0 ? 0 : Math.min(p.maxDelayMs, Number.isFinite(grown) ? grown : p.maxDelayMs);
        const delay = backoffDelay(p, n, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(raw * (1 - p.jitter)) - 1);
        expect(delay).toBeLessThanOrEqual(Math.ceil(raw * (1 + p.jitter)) + 1);
      }),
      { numRuns: 2_000 },
    );
  });

  it('without jitter, backoff never shrinks from one attempt to the next', () => {
    fc.assert(
      fc.property(policies, attempts, (p, n) => {
        const flat = createRetryPolicy({ jitter: 0 }, p);
        expect(backoffDelay(flat, n + 1)).toBeGreaterThanOrEqual(backoffDelay(flat, n));
      }),
      { numRuns: 2_000 },
    );
  });

  it('a Retry-After delay is finite, never earlier than asked (up to the cap) and never beyond maxDelayMs', () => {
    fc.assert(
      fc.property(policies, retryAfters, randoms, (p, retryAfterMs, r) => {
        const decision = decideRetry({ ...p, maxAttempts: Number.MAX_SAFE_INTEGER }, { attempts: 1, ageMs: 0, retryAfterMs }, () => r);
        expect(decision.retry).toBe(true);
        if (!decision.retry) return;
        expect(Number.isFinite(decision.delayMs)).toBe(true);
        expect(decision.delayMs).toBeGreaterThanOrEqual(Math.min(retryAfterMs, p.maxDelayMs));
        expect(decision.delayMs).toBeLessThanOrEqual(p.maxDelayMs);
      }),
      { numRuns: 2_000 },
    );
  });

  it('every retry decision has a finite delay a store can write', () => {
    fc.assert(
      fc.property(policies, attempts, randoms, fc.option(retryAfters, { nil: undefined }), (p, n, r, retryAfterMs) => {
        const decision = decideRetry(p, { attempts: n, ageMs: 0, retryAfterMs }, () => r);
        if (decision.retry) {
          expect(Number.isFinite(decision.delayMs)).toBe(true);
          expect(decision.delayMs).toBeGreaterThanOrEqual(0);
        } else expect(n).toBeGreaterThanOrEqual(p.maxAttempts);
      }),
      { numRuns: 2_000 },
    );
  });
});
