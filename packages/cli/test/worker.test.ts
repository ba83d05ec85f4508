import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from './support/cli.js';
import { createPostgresDatabase, createSqliteDatabase, type TestDatabase } from './support/databases.js';
import { createReceiver, type Receiver } from './support/receiver.js';

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

/**
 * Resolves with the result once the process exits, failing when it is still
 * running after `boundMs`. The bound is generous (a loaded machine is slow to
 * start and stop processes); each test picks it well below the time the
 * process would take if the behaviour under test were missing.
 */
const exitWithin = async (proc: CliProcess, boundMs: number) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${boundMs} ms\nstdout: ${proc.stdout()}\nstderr: ${proc.stderr()}`)), boundMs);
  });
  try {
    return await Promise.race([proc.exited, late]);
  } finally {
    clearTimeout(timer);
  }
};

function workerSuite(name: string, createDatabase: () => Promise<TestDatabase | undefined>) {
  describe(`messagebox worker on ${name}: graceful shutdown`, () => {
    let database: TestDatabase | undefined;
    let receiver: Receiver;
    const env = (extra: Record<string, string>) => ({
      ...database!.env,
      MB_RECEIVER_URL: receiver.url,
      MB_SECRET: receiver.secret,
      MB_BATCH_SIZE: '10',
      MB_CONCURRENCY: '10',
      MB_POLL_MS: '100',
      MB_MAX_ATTEMPTS: '10',
      ...extra,
    });
    const outboxRows = async () => database!.storage.outbox.list({ limit: 1_000 });

    beforeAll(async () => {
      database = await createDatabase();
      if (!database) return;
      await database.storage.migrate();
      receiver = await createReceiver();
      await receiver.start();
    });
    afterAll(async () => {
      await receiver?.stop();
      await database?.destroy();
    });

    it('on SIGTERM stops claiming, finishes the attempts in flight and exits within the bound; nothing lost, nothing left claimed', async (ctx) => {
      if (!database) return ctx.skip(`${name} is not reachable (set CI=true to make this a failure)`);
      const ids = await database.addToOutbox(Array.from({ length: 40 }, (_, n) => ({ type: 'order.created', payload: { n } })));
      receiver.delayMs = 300;
      const worker = startCli(['worker', '--only', 'outbox', '--shutdown-timeout', '4s'], { env: env({ MB_LEASE_MS: '30000' }) });
      await worker.waitFor(/worker started: outbox \(order\.created, order\.unknown\)/);
      await until(() => receiver.arrivals >= 12);
      // Attempts starting from now wait at the receiver until the worker has taken the signal, however slowly it does.
      let open!: () => void;
      receiver.hold = new Promise((resolve) => (open = resolve));
      worker.child.kill('SIGTERM');
      await worker.waitFor(/SIGTERM received: no new claims/, 30_000);
      open();
      receiver.hold = undefined;
      const result = await exitWithin(worker, 30_000);

      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/SIGTERM received: no new claims/);
      expect(result.stdout).toMatch(/worker stopped cleanly/);

      const rows = await outboxRows();
      const sent = rows.filter((r) => r.status === 'sent').map((r) => r.id);
      const pending = rows.filter((r) => r.status === 'pending');
      expect(sent.length + pending.length).toBe(40);
      expect(sent.length).toBeGreaterThanOrEqual(12);
      expect(sent.length).toBeLessThan(40);
      expect(pending.every((r) => r.leaseUntil === null)).toBe(true);
      expect(receiver.received.map((m) => m.id).sort()).toEqual([...sent].sort());

      receiver.delayMs = 0;
      const resend = await runCli(['resend', '--json'], { env: env({}) });
      expect(resend.code).toBe(0);
      expect(JSON.parse(resend.stdout)).toMatchObject({ sent: pending.length, remaining: { pending: 0, dead: 0 } });
      expect(new Set(receiver.received.map((m) => m.id))).toEqual(new Set(ids));
    });

    it('when an attempt outlives the shutdown timeout, aborts it, exits within the bound, and the message is delivered later', async (ctx) => {
      if (!database) return ctx.skip(`${name} is not reachable`);
      receiver.received.length = 0;
      const ids = await database.addToOutbox(Array.from({ length: 5 }, (_, n) => ({ type: 'order.created', payload: { hung: n } })));
      receiver.delayMs = 60_000;
      const arrivalsBefore = receiver.arrivals;
      const leaseMs = 5_000;
      const worker = startCli(['worker', '--only', 'outbox', '--shutdown-timeout', '2s'], { env: env({ MB_LEASE_MS: String(leaseMs), MB_HTTP_TIMEOUT_MS: '60000' }) });
      await worker.waitFor(/worker started/);
      await until(() => receiver.arrivals - arrivalsBefore >= 5);
      worker.child.kill('SIGTERM');
      // The receiver holds each attempt for 60 s: only the 2 s shutdown bound ends the process within 30 s.
      const result = await exitWithin(worker, 30_000);

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/still running at the shutdown timeout and were aborted|still busy after the shutdown timeout/);

      const rows = (await outboxRows()).filter((r) => ids.includes(r.id));
      expect(rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
      for (const row of rows) {
        if (row.leaseUntil !== null) expect(row.leaseUntil.getTime()).toBeLessThanOrEqual(result.at + leaseMs);
      }
      const leaseEnds = Math.max(0, ...rows.map((r) => r.leaseUntil?.getTime() ?? 0));
      await new Promise((r) => setTimeout(r, Math.max(0, leaseEnds - Date.now() + 100)));

      receiver.delayMs = 0;
      const resend = await runCli(['resend', '--json'], { env: env({}) });
      expect(resend.code).toBe(0);
      expect(JSON.parse(resend.stdout)).toMatchObject({ sent: 5, remaining: { pending: 0 } });
      expect(receiver.received.map((m) => m.id).sort()).toEqual([...ids].sort());
    });

    it('deletes sent and processed rows past their retention while running, warns when inbox retention is too short, and takes a doubled SIGTERM as one', async (ctx) => {
      if (!database) return ctx.skip(`${name} is not reachable`);
      const ids = await database.addToOutbox([{ type: 'order.created', payload: { keep: 'no' } }]);
      await database.receiveInInbox([{ id: `retained-${name}`, type: 'note.received', payload: {} }]);
      const worker = startCli(['worker', '--shutdown-timeout', '5s'], { env: env({ MB_RETENTION_MS: '10', MB_RETENTION_INTERVAL_MS: '100', MB_LOG_LEVEL: 'warn' }) });
      await worker.waitFor(/worker started/);
      await until(async () => (await outboxRows()).length === 0 && (await database!.storage.inbox.list({ limit: 10 })).length === 0);
      // Like systemd stopping a unit: every process (the bin and the CLI it runs) gets SIGTERM at once.
      const cliPid = Number(/pid (\d+)/.exec(worker.stdout())![1]);
      worker.child.kill('SIGTERM');
      process.kill(cliPid, 'SIGTERM');
      const result = await worker.exited;
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/worker stopped cleanly/);
      expect(result.stderr).toMatch(/inbox retention is shorter than the longest sender retry schedule/);
      expect(receiver.received.map((m) => m.id)).toContain(ids[0]);
    });
  });
}

workerSuite('SQLite', createSqliteDatabase);
workerSuite('Postgres', createPostgresDatabase);

describe('messagebox worker: a stop request while it is still starting', () => {
  /** A "database" that accepts connections and never answers, so the worker hangs in its start-up check. */
  async function silentDatabase(): Promise<{ url: string; accepted(): number; connections(n: number): Promise<void>; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    let accepted = 0;
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      accepted++;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      url: `postgres://postgres@127.0.0.1:${port}/test`,
      accepted: () => accepted,
      connections: (n) => until(() => accepted >= n, 30_000),
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  it('exits within the shutdown timeout, and a second signal a second later exits at once', async () => {
    const silent = await silentDatabase();
    try {
      // The start-up check would hang for the 60 s connect timeout; only the shutdown bound ends these runs sooner.
      const env = { MB_DIALECT: 'postgres', MB_DATABASE_URL: silent.url, MB_PG_CONNECT_TIMEOUT_MS: '60000' };
      const bounded = startCli(['worker', '--shutdown-timeout', '2s'], { env });
      await silent.connections(1); // the worker listens for signals before it connects
      bounded.child.kill('SIGTERM');
      const first = await exitWithin(bounded, 40_000);
      expect(first.code).toBe(1);
      expect(first.stderr).toMatch(/still busy after the shutdown timeout \(2s\)/);

      const connectedBefore = silent.accepted();
      const patient = startCli(['worker', '--shutdown-timeout', '40s'], { env });
      await silent.connections(connectedBefore + 1);
      patient.child.kill('SIGTERM');
      await patient.waitFor(/SIGTERM received: no new claims/, 30_000);
      // A signal repeated within a second counts as the first one (systemd signals the whole group); this one comes later.
      await new Promise((r) => setTimeout(r, 1_500));
      patient.child.kill('SIGINT');
      const second = await exitWithin(patient, 30_000);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/SIGINT received again: exiting now/);
      expect(second.stderr).not.toMatch(/still busy after the shutdown timeout/);
    } finally {
      await silent.close();
    }
  }, 120_000);
});
