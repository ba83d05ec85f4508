import { generateWebhookSecret } from '@messagebox/core';
import type { Usage } from './child-side.js';
import { wallNow } from './child-side.js';
import { anyExit, Child } from './children.js';
import { withCleanup } from './cleanup.js';
import { backendCpu, backendCpuDelta, runDatabases, type DatabaseRef } from './databases.js';
import { prepareDatabase } from './messages.js';
import { prepare, sideUsage, type RunContext, type SideUsage } from './run-drain.js';
import type { CeilingVariant } from './variants.js';

/** Requests in flight per client process: the outbox's default `concurrency`. */
export const IN_FLIGHT_PER_PROCESS = 32;

export interface CeilingResult {
  variant: string;
  messages: number;
  /** From the go signal until every client had its last answer. */
  durationMs: number;
  perSecond: number;
  server: SideUsage;
  /** The client processes (HTTP transport only, no database). */
  clients: Pick<SideUsage, 'cpuMsPerMessage' | 'peakRssMiB'>;
}

/** Posts `messages` signed requests from `variant.clients` processes to a server doing one INSERT per POST. */
export async function runCeiling(variant: CeilingVariant, messages: number, context: RunContext): Promise<CeilingResult> {
  const databases = runDatabases(variant.dialect, ['ceiling'], context.adminUrl);
  const children: Child[] = [];
  return withCleanup(
    async () => {
      await Promise.all(children.map((c) => c.stop(5_000).catch(() => c.process.kill('SIGKILL'))));
      await databases.drop();
    },
    async () => {
      await databases.create();
      const ref = databases.refs.ceiling as DatabaseRef;
      await prepare(ref, (db) => prepareDatabase(ref, db, 'ceiling'));
      const server = new Child('ceiling server', 'ceiling-server', { MB_RECEIVER_DIALECT: ref.dialect, MB_RECEIVER_URL: ref.url });
      children.push(server);
      const { url } = await server.next('ready', 30_000);
      const secret = generateWebhookSecret();
      const share = Math.ceil(messages / variant.clients);
      const clients = Array.from({ length: variant.clients }, (_, i) => {
        const count = Math.max(0, Math.min(share, messages - i * share));
        const child = new Child(`ceiling client ${i + 1}`, 'ceiling-client', {
          MB_TARGET_URL: String(url),
          MB_SECRET: secret,
          MB_COUNT: String(count),
          MB_OFFSET: String(i * share),
          MB_IN_FLIGHT: String(IN_FLIGHT_PER_PROCESS),
        });
        children.push(child);
        return child;
      });
      await Promise.all(clients.map((c) => c.next('ready', 30_000)));
      await server.ask({ kind: 'measure' }, 'measuring', 10_000);
      const pgName = ref.dialect === 'postgres' ? databases.names.ceiling : undefined;
      const backendsBefore = pgName ? await backendCpu(context.adminUrl, [pgName]) : undefined;
      const started = wallNow();
      const done = Promise.all(clients.map((c) => c.next('done', context.timeoutMs)));
      for (const c of clients) c.send({ kind: 'go' });
      const answers = await Promise.race([done, anyExit(children)]);
      const failures = answers.reduce((sum, a) => sum + Number(a.failures), 0);
      if (failures) throw new Error(`[benchmark] ${variant.name}: ${failures} requests failed`);
      const finishedAt = Math.max(...answers.map((a) => Number(a.at)));
      const backendsAfter = backendsBefore && pgName ? await backendCpu(context.adminUrl, [pgName]) : undefined;
      const databaseCpuMs = backendsBefore && backendsAfter && pgName ? backendCpuDelta(backendsBefore, backendsAfter, pgName) : undefined;
      const clientFinals = await Promise.all(clients.map((c) => c.stop()));
      const serverFinal = await server.stop();
      if (Number(serverFinal?.stored) !== messages) throw new Error(`[benchmark] ${variant.name}: the server stored ${serverFinal?.stored}, expected ${messages}`);
      const durationMs = finishedAt - started;
      const clientUsage = sideUsage(clientFinals.map((f) => f?.usage as Usage | undefined), messages);
      return {
        variant: variant.name,
        messages,
        durationMs: Math.round(durationMs),
        perSecond: Math.round(messages / (durationMs / 1000)),
        server: sideUsage([serverFinal?.usage as Usage | undefined], messages, undefined, databaseCpuMs === undefined ? undefined : databaseCpuMs / messages),
        clients: { cpuMsPerMessage: clientUsage.cpuMsPerMessage, peakRssMiB: clientUsage.peakRssMiB },
      };
    },
  );
}
