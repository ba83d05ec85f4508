import { generateWebhookSecret } from '@messagebox/core';
import { brokerEnv, declareBrokerTopology, deleteBrokerTopology, type BrokerTopology } from './broker-routes.js';
import type { Usage } from './child-side.js';
import { wallNow } from './child-side.js';
import { anyExit, Child } from './children.js';
import { withCleanup } from './cleanup.js';
import { backendCpu, backendCpuDelta, connect, runDatabases, storageOn, transactionStats, type DatabaseRef } from './databases.js';
import { prepareDatabase, seedOutbox } from './messages.js';
import { addCounts, emptyCounts, type StatementCounts } from './statement-counter.js';
import type { DrainVariant } from './variants.js';

/** What one process used during a run, per message where it says so. */
export interface SideUsage {
  processes: number;
  /** CPU of all processes of this side together, per message. */
  cpuMsPerMessage: number;
  /** CPU per message of each process. */
  cpuMsPerMessageByProcess: number[];
  statementsPerMessage: number;
  /** The inbox's receive path, handle path and, of handle, the handler's own statements, per message (see {@link StatementCounts}); 0 on the sender. */
  receiveStatementsPerMessage: number;
  handleStatementsPerMessage: number;
  handlerStatementsPerMessage: number;
  /** Transactions per message, counted: BEGINs plus statements run outside a transaction. */
  transactionsPerMessage: number;
  statements: StatementCounts;
  /** Postgres only: xact_commit + xact_rollback of this side's database (pg_stat_database) per message. */
  pgTransactionsPerMessage?: number;
  /** Postgres on this machine: CPU of this side's database backends per message (from /proc). */
  databaseCpuMsPerMessage?: number;
  /** Highest peak RSS among the processes, MiB. */
  peakRssMiB: number;
  /** Highest heap used after a full GC once drained, among the processes, MiB (grows with the messages only if something is kept per message). */
  heapAfterGcMiB?: number;
  /** Warnings and errors the processes logged, by message. */
  logs: Record<string, number>;
}

export interface DrainResult {
  variant: string;
  /** The variant's delivery (a key of `DELIVERY_CONFIGS`). */
  delivery?: string;
  messages: number;
  /** From the go signal until the receiver had stored (and answered) every message. */
  acknowledgedMs: number;
  /** … until every handler had committed. */
  handledMs: number;
  /** … until the senders had marked every message sent. */
  sentMs: number;
  acknowledgedPerSecond: number;
  handledPerSecond: number;
  sender: SideUsage;
  receiver: SideUsage;
}

export interface RunContext {
  adminUrl: string;
  timeoutMs: number;
  log(line: string): void;
}

/** Pre-inserts `messages` committed messages, drains them with `variant.senders` worker processes into a receiver process, and measures. */
export async function runDrain(variant: DrainVariant, messages: number, context: RunContext): Promise<DrainResult> {
  const databases = runDatabases(variant.dialect, ['sender', 'receiver'], context.adminUrl);
  const children: Child[] = [];
  let topology: BrokerTopology | undefined;
  return withCleanup(
    async () => {
      await Promise.all(children.map((c) => c.stop(5_000).catch(() => c.process.kill('SIGKILL'))));
      await databases.drop();
      if (topology) await deleteBrokerTopology(topology);
    },
    async () => {
      await databases.create();
      const { sender, receiver } = databases.refs as { sender: DatabaseRef; receiver: DatabaseRef };
      await prepare(sender, async (db) => {
        await prepareDatabase(sender, db, 'none');
        await seedOutbox(sender, db, messages, variant.keys);
      });
      await prepare(receiver, (db) => prepareDatabase(receiver, db, 'handled'));

      const secret = generateWebhookSecret();
      if (variant.broker) topology = await declareBrokerTopology(variant.broker);
      const viaBroker = topology ? brokerEnv(topology) : {};
      const inbox = new Child('receiver', 'receiver', { MB_RECEIVER_DIALECT: receiver.dialect, MB_RECEIVER_URL: receiver.url, MB_SECRET: secret, MB_DELIVERY: variant.delivery, ...viaBroker });
      children.push(inbox);
      const { url } = await inbox.next('ready', 30_000);
      const senders = Array.from({ length: variant.senders }, (_, i) => {
        const child = new Child(`sender ${i + 1}`, 'sender', {
          MB_SENDER_DIALECT: sender.dialect,
          MB_SENDER_URL: sender.url,
          MB_RECEIVER_URL: String(url),
          MB_SECRET: secret,
          MB_DELIVERY: variant.delivery,
          ...viaBroker,
        });
        children.push(child);
        return child;
      });
      await Promise.all(senders.map((s) => s.next('ready', 30_000)));
      const pgNames = [databases.names.sender, databases.names.receiver].filter((n): n is string => !!n);
      const xactsBefore = pgNames.length ? await transactionStats(context.adminUrl, pgNames) : undefined;

      await inbox.ask({ kind: 'measure', expect: messages }, 'measuring', 10_000);
      const backendsBefore = pgNames.length ? await backendCpu(context.adminUrl, pgNames) : undefined;
      const started = wallNow();
      for (const s of senders) s.send({ kind: 'go' });
      const deadline = started + context.timeoutMs;
      const remaining = () => Math.max(1, deadline - wallNow());
      const stall = () => `received ${inbox.progress?.received ?? 0}, handled ${inbox.progress?.handled ?? 0}, sent ${sentSoFar()} of ${messages}`;
      const sentSoFar = () => senders.reduce((sum, s) => sum + Number(s.progress?.sent ?? 0), 0);
      let acknowledgedAt: number;
      let handledAt: number;
      const crash = anyExit(children);
      try {
        acknowledgedAt = Number((await Promise.race([inbox.next('received-all', remaining()), crash])).at);
        handledAt = Number((await Promise.race([inbox.next('handled-all', remaining()), crash])).at);
        while (sentSoFar() < messages) {
          if (wallNow() > deadline) throw new Error('sent too slowly');
          const dead = senders.find((s) => !s.alive);
          if (dead) throw new Error(`${dead.name} exited`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } catch (error) {
        throw new Error(`[benchmark] ${variant.name}: not drained (${stall()}; bound ${context.timeoutMs} ms): ${(error as Error).message}`);
      }
      const backendsAfter = backendsBefore ? await backendCpu(context.adminUrl, pgNames) : undefined;
      const databaseCpu = (name: string | undefined) => (backendsBefore && backendsAfter && name ? backendCpuDelta(backendsBefore, backendsAfter, name) / messages : undefined);
      const senderFinals = await Promise.all(senders.map((s) => s.stop()));
      const sentAt = Math.max(...senderFinals.map((f) => Number(f?.lastSentAt ?? Number.NaN)));
      const receiverFinal = await inbox.stop();

      await prepare(receiver, async (db) => {
        const [row] = await db.selectFrom('bench_handled').select((eb) => eb.fn.countAll<number>().as('n')).execute();
        if (Number(row?.n) !== messages) throw new Error(`[benchmark] ${variant.name}: the handler table has ${row?.n} rows, expected ${messages}`);
      });
      await prepare(sender, async (db) => {
        const stats = await storageOn(sender, db).outbox.stats();
        if (stats.sent !== messages || stats.pending !== 0) throw new Error(`[benchmark] ${variant.name}: the outbox has ${stats.sent} sent and ${stats.pending} pending, expected ${messages} sent`);
      });
      let pgXacts: { sender?: number; receiver?: number } = {};
      if (xactsBefore) {
        await new Promise((r) => setTimeout(r, 1_200));
        const after = await transactionStats(context.adminUrl, pgNames);
        const delta = (name: string | undefined) => (name ? ((after.get(name) ?? 0) - (xactsBefore.get(name) ?? 0)) / messages : undefined);
        pgXacts = { sender: delta(databases.names.sender), receiver: delta(databases.names.receiver) };
      }
      const perSecond = (ms: number) => Math.round(messages / (ms / 1000));
      const acknowledgedMs = acknowledgedAt - started;
      const handledMs = handledAt - started;
      return {
        variant: variant.name,
        delivery: variant.delivery,
        messages,
        acknowledgedMs: Math.round(acknowledgedMs),
        handledMs: Math.round(handledMs),
        sentMs: Math.round(sentAt - started),
        acknowledgedPerSecond: perSecond(acknowledgedMs),
        handledPerSecond: perSecond(handledMs),
        sender: sideUsage(senderFinals.map((f) => f?.usage as Usage | undefined), messages, pgXacts.sender, databaseCpu(databases.names.sender)),
        receiver: sideUsage([receiverFinal?.usage as Usage | undefined], messages, pgXacts.receiver, databaseCpu(databases.names.receiver)),
      };
    },
  );
}

/** Runs `fn` on a short-lived connection of the parent (setup and checks; never counted). */
export async function prepare<T>(ref: DatabaseRef, fn: (db: ReturnType<typeof connect>) => Promise<T>): Promise<T> {
  const db = connect(ref);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

export function sideUsage(usages: readonly (Usage | undefined)[], messages: number, pgTransactions?: number, databaseCpuMs?: number): SideUsage {
  const known = usages.filter((u): u is Usage => !!u);
  if (known.length !== usages.length) throw new Error('[benchmark] a process ended without reporting its usage');
  const statements = known.reduce((sum, u) => addCounts(sum, u.statements), emptyCounts());
  const logs: Record<string, number> = {};
  for (const u of known) for (const [k, v] of Object.entries(u.logs)) logs[k] = (logs[k] ?? 0) + v;
  return {
    processes: known.length,
    cpuMsPerMessage: known.reduce((sum, u) => sum + u.cpuMs, 0) / messages,
    cpuMsPerMessageByProcess: known.map((u) => u.cpuMs / messages),
    statementsPerMessage: statements.total / messages,
    receiveStatementsPerMessage: (statements.receive ?? 0) / messages,
    handleStatementsPerMessage: (statements.handle ?? 0) / messages,
    handlerStatementsPerMessage: (statements.handler ?? 0) / messages,
    transactionsPerMessage: statements.transactions / messages,
    statements,
    ...(pgTransactions === undefined ? {} : { pgTransactionsPerMessage: pgTransactions }),
    ...(databaseCpuMs === undefined ? {} : { databaseCpuMsPerMessage: databaseCpuMs }),
    peakRssMiB: Math.max(...known.map((u) => u.maxRssMiB)),
    ...(known.every((u) => u.heapAfterGcMiB !== undefined) ? { heapAfterGcMiB: Math.max(...known.map((u) => u.heapAfterGcMiB!)) } : {}),
    logs,
  };
}
