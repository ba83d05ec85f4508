import { defineConfig } from 'vitest/config';

/**
 * Shared Vitest settings for every package: resolve workspace packages to
 * their TypeScript sources and write a JSON report that `.ci/run-tests.mjs`
 * adds up into the one-line summary CI reads.
 */
export function packageTestConfig(options: { timeoutMs?: number } = {}) {
  return defineConfig({
    resolve: { conditions: ['@messagebox/source'] },
    ssr: { resolve: { conditions: ['@messagebox/source'] } },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: options.timeoutMs ?? 120_000,
      hookTimeout: 120_000,
      reporters: ['default', ['json', { outputFile: '.test-results/results.json' }]],
    },
  });
}
