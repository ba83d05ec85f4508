import { describe, it } from 'vitest';
import { inboxCases } from './inbox-cases.js';
import { outboxCases } from './outbox-cases.js';
import type { StorageCase, StorageConformanceOptions } from './types.js';

/** Every case of the storage suite, in order. */
export const storageCases: readonly StorageCase[] = [...outboxCases, ...inboxCases];

/** Names of every case, for `skip`. */
export const storageCaseNames: readonly string[] = storageCases.map((c) => c.name);

let counter = 0;

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
    const unknown = Object.keys(skip).filter((name) => !storageCaseNames.includes(name));
    const unexplained = Object.entries(skip).filter(([, reason]) => typeof reason !== 'string' || reason.trim() === '');
    it('skip list names only existing cases, each with a reason', () => {
      if (unknown.length) throw new Error(`[messagebox] skip names cases that do not exist: ${unknown.map((n) => JSON.stringify(n)).join(', ')}`);
      if (unexplained.length) throw new Error(`[messagebox] skipped cases need a reason: ${unexplained.map(([n]) => JSON.stringify(n)).join(', ')}`);
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
