import type { InboxStore, OutboxStore } from '@messagebox/core';

/** The stores under test, fresh and empty for one case. */
export interface StorageUnderTest<OutboxTx = unknown, InboxTx = unknown> {
  outbox: OutboxStore<OutboxTx>;
  inbox: InboxStore<InboxTx>;
  /** Called after the case, pass or fail. */
  teardown?: () => Promise<void> | void;
}

/** Options of {@link runStorageConformance}. */
export interface StorageConformanceOptions<OutboxTx = unknown, InboxTx = unknown> {
  /** Shown in the `describe` title, e.g. `"postgres"`. */
  name: string;
  /**
   * Returns stores with no rows in them, for one case. `context.id` is a
   * short unique token (letters and digits) you may use as a table prefix or
   * file name to isolate cases cheaply. Give the outbox and the inbox one
   * database (one transaction type), as an application does: the cases
   * `inbox: handlers that publish: …` run them together, and skip themselves
   * (saying why) when the stores' `database` members differ.
   */
  setup: (context: { id: string }) => Promise<StorageUnderTest<OutboxTx, InboxTx>>;
  /** Cases not to run, each with the reason. Naming a case that does not exist fails the suite. */
  skip?: Record<string, string>;
}

/** One case of the suite. */
export interface StorageCase {
  readonly name: string;
  run(stores: StorageUnderTest<unknown, unknown>, context: { skip(reason: string): void }): Promise<void>;
}
