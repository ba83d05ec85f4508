import { describe, it } from 'vitest';
import { handlerErrorCases } from './handler-error-cases.js';
import { handlerPublishingCases } from './handler-publishing-cases.js';
import { inboxCases } from './inbox-cases.js';
import { operationsCases } from './operations-cases.js';
import { outboxCases } from './outbox-cases.js';
import { orderingCases } from './ordering-cases.js';
import type { StorageCase, StorageConformanceOptions } from './types.js';

/** Every case of the storage suite, in order. */
export const storageCases: readonly StorageCase[] = [...outboxCases, ...inboxCases, ...orderingCases, ...handlerPublishingCases, ...handlerErrorCases, ...operationsCases];

/** Names of every case, for `skip`. */
export const storageCaseNames: readonly string[] = storageCases.map((c) => c.name);

let counter = 0;

/** What is wrong with a skip list: unknown case names, missing reasons. Empty when valid. */
export function skipProblems(skip: Record<string, string>, names: readonly string[] = storageCaseNames): string[] {
  const problems: string[] = [];
  for (const [name, reason] of Object.entries(skip)) {
    if (!names.includes(name)) problems.push(`no case is named ${JSON.stringify(name)}`);
    else if (typeof reason !== 'string' || reason.trim() === '') problems.push(`${JSON.stringify(name)} is skipped without a reason`);
  }
  return problems;
}

/**
 * Registers the storage conformance suite with Vitest: every behaviour the
 * `OutboxStore` and `InboxStore` ports promise, run against your stores. Each
 * case gets fresh, empty stores from `setup` and tears them down afterwards.
 *
 * @example
 * runStorageConformance({
 *   name: 'sqlite',
 *   setup: async ({ id }) => {
 *     const storage = createSqliteStorage({ db, tablePrefix: `t${id}_` });
 *     await storage.migrate();
 *     return { outbox: storage.outbox, inbox: storage.inbox };
 *   },
 *   skip: { 'outbox: watch wakes a watcher when an add commits, not on rollback': 'no LISTEN here' },
 * });
 */
export function runStorageConformance<OutboxTx, InboxTx>(options: StorageConformanceOptions<OutboxTx, InboxTx>): void {
  const skip = options.skip ?? {};
  describe(`storage conformance: ${options.name}`, () => {
    it('skip list names only existing cases, each with a reason', () => {
      const problems = skipProblems(skip);
      if (problems.length) throw new Error(`[messagebox] invalid skip list: ${problems.join('; ')}`);
    });

    for (const testCase of storageCases) {
      const reason = skip[testCase.name];
      if (reason !== undefined) {
        it.skip(`${testCase.name} (skipped: ${reason})`, () => {});
        continue;
      }
      it(testCase.name, async (context) => {
        const stores = await options.setup({ id: `c${process.pid.toString(36)}${(++counter).toString(36)}` });
        try {
          await testCase.run(stores as never, { skip: (why) => context.skip(why) });
        } finally {
          await stores.teardown?.();
        }
      });
    }
  });
}
