import type { Inbox, Outbox } from '@messagebox/core';

/**
 * What a `messagebox.config.ts` gives the `messagebox` command: your
 * configured services and how to migrate and close your database.
 *
 * @example
 * export default defineConfig({
 *   outbox,
 *   inbox,
 *   migrate: () => storage.migrate(),
 *   close: () => db.destroy(),
 * });
 */
export interface MessageboxConfig {
  /** The outbox service (`createOutbox(...)` with its transports configured). Needed by `resend`, `worker` and outbox operations. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  outbox?: Outbox<any> | undefined;
  /** The inbox service (`createInbox(...)` with its handlers registered). Needed by `worker` and inbox operations. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inbox?: Inbox<any> | undefined;
  /** Creates or upgrades the tables, e.g. `() => storage.migrate()`; run by `messagebox migrate`. */
  migrate?: () => unknown;
  /** Releases what the config opened (database pools, servers); called once before the command exits. */
  close?: () => unknown;
}

/**
 * A config module's default export: the config itself, or a function
 * (possibly async) that builds it, so connections open only when a command
 * runs.
 */
export type MessageboxConfigExport = MessageboxConfig | (() => MessageboxConfig | Promise<MessageboxConfig>);

/**
 * Types a `messagebox.config.ts`; returns its argument unchanged.
 *
 * @example
 * import { defineConfig } from '@messagebox/cli';
 * export default defineConfig(async () => {
 *   const storage = createPostgresStorage({ connectionString: process.env.DATABASE_URL! });
 *   const outbox = createOutbox({ store: storage.outbox, source: 'vault' })
 *     .configure('payment.created', { transport: createHttpTransport({ url: process.env.LEDGER_URL! }) });
 *   return { outbox, migrate: () => storage.migrate(), close: () => storage.destroy() };
 * });
 */
export function defineConfig<T extends MessageboxConfigExport>(config: T): T {
  return config;
}
