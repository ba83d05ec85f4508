import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createReceiver, type Receiver } from './support/receiver.js';
import { runCli } from './support/cli.js';
import type { TestDatabase } from './support/databases.js';

/**
 * The CLI behaviours every database must show, run against the real
 * `messagebox` bin as a child process. Each dialect's test file calls it.
 */
export function runCliSuite(name: string, createDatabase: () => Promise<TestDatabase | undefined>): void {
  describe(`messagebox CLI on ${name}`, () => {
    let database: TestDatabase;
    let receiver: Receiver;
    let env: Record<string, string>;
    let skip = false;
    const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra } });

    beforeAll(async () => {
      const created = await createDatabase();
      if (!created) {
        skip = true;
        return;
      }
      database = created;
      receiver = await createReceiver();
      env = { ...database.env, MB_RECEIVER_URL: receiver.url, MB_SECRET: receiver.secret, MB_MAX_ATTEMPTS: '3', MB_HTTP_TIMEOUT_MS: '3000' };
    });

    afterAll(async () => {
      await receiver?.stop();
      await database?.destroy();
    });

    it('says to migrate when the tables do not exist, then migrates idempotently', async (ctx) => {
      if (skip) return ctx.skip(`${name} is not reachable (set CI=true to make this a failure)`);
      const before = await cli(['status']);
      expect(before.code).toBe(1);
      expect(before.stderr).toMatch(/tables do not exist/);
      expect(before.stderr).toMatch(/run `messagebox migrate` first/);

      const first = await cli(['migrate']);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/applied \d+ migration\(s\)/);
      const again = await cli(['migrate']);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/up to date/);
    });

    it('resends with the receiver down (exit 0, retried), then up (delivered); permanent failures go dead', async (ctx) => {
      if (skip) return ctx.skip(`${name} is not reachable`);
      const ids = await database.addToOutbox([
        { type: 'order.created', payload: { n: 1 } },
        { type: 'order.created', payload: { n: 2 } },
        { type: 'order.created', payload: { n: 3 } },
        { type: 'order.unknown', payload: { n: 4 } },
      ]);

      const down = await cli(['resend', '--json']);
      expect(down.code).toBe(0);
      expect(JSON.parse(down.stdout)).toMatchObject({ attempted: 4, sent: 0, retried: 4, dead: 0, remaining: { pending: 4, dead: 0 } });
      expect(receiver.received).toHaveLength(0);

      const status = await cli(['status', '--json']);
      expect(status.code).toBe(0);
      const report = JSON.parse(status.stdout);
      expect(report.outbox).toMatchObject({ pending: 4, sent: 0, dead: 0 });
      expect(report.outbox.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
      expect(report.outbox.recentErrors[0].lastError).toMatch(/ECONNREFUSED|connect|fetch failed/i);
      expect(report.inbox).toMatchObject({ received: 0, processed: 0, dead: 0 });

      await receiver.start();
      const up = await cli(['resend']);
      expect(up.code).toBe(0);
      expect(up.stdout).toMatch(/resend: attempted 4, sent 3, to retry 0, dead 1/);
      expect(up.stdout).toMatch(/now 0 pending, 1 dead/);
      expect(receiver.received.map((m) => m.id).sort()).toEqual(ids.slice(0, 3).sort());

      const text = await cli(['status']);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^outbox\s+pending\s+0\s*$/m);
      expect(text.stdout).toMatch(/^\s+sent\s+3\s*$/m);
      expect(text.stdout).toMatch(/^\s+dead\s+1\s*$/m);
      expect(text.stdout).toMatch(/Recent errors:[\s\S]*order\.unknown[\s\S]*422/);
    });

    it('lists, shows and replays dead messages', async (ctx) => {
      if (skip) return ctx.skip(`${name} is not reachable`);
      const list = await cli(['dead', 'list', '--json']);
      expect(list.code).toBe(0);
      const dead = JSON.parse(list.stdout);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ side: 'outbox', type: 'order.unknown', status: 'dead', attempts: 2 });
      const id: string = dead[0].id;

      const table = await cli(['dead', 'list', '--error', '422']);
      expect(table.stdout).toContain(id);
      // The cause first: the status and the receiver's answer before the URL and the id.
      expect(table.stdout).toMatch(new RegExp(`${id} .*answered 422: `));
      expect(table.stdout).toMatch(/1 dead message\(s\)/);
      expect((await cli(['dead', 'list', '--type', 'order.created'])).stdout).toMatch(/no dead messages match/);
      expect((await cli(['dead', 'list', '--older-than', '1d'])).stdout).toMatch(/no dead messages match/);

      const show = await cli(['dead', 'show', id]);
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
      expect(show.stdout).toMatch(/^attempts\s+2$/m);
      expect(show.stdout).toMatch(/^last error\s+.*422/m);
      expect(show.stdout).toMatch(/"n": 4/);

      const missing = await cli(['dead', 'show', 'no-such-id']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no message with id no-such-id/);

      const unsaid = await cli(['dead', 'replay']);
      expect(unsaid.code).toBe(2);
      expect(unsaid.stderr).toMatch(/--all/);

      const dry = await cli(['dead', 'replay', '--type', 'order.unknown', '--dry-run']);
      expect(dry.stdout).toMatch(/would replay 1 dead message/);
      expect(JSON.parse((await cli(['status', '--json'])).stdout).outbox.dead).toBe(1);

      receiver.inbox.on('order.unknown', async () => {});
      const replay = await cli(['dead', 'replay', id]);
      expect(replay.code).toBe(0);
      expect(replay.stdout).toMatch(/replayed 1 dead message\(s\) \(outbox 1, inbox 0\)/);
      const resend = await cli(['resend', '--json']);
      expect(JSON.parse(resend.stdout)).toMatchObject({ attempted: 1, sent: 1, remaining: { pending: 0, dead: 0 } });
      expect(receiver.received.map((m) => m.id)).toContain(id);
    });

    it('replays dead inbox messages by filter', async (ctx) => {
      if (skip) return ctx.skip(`${name} is not reachable`);
      await database.receiveInInbox([
        { id: `note-ok-${name}`, type: 'note.received', payload: {} },
        { id: `note-bad-${name}`, type: 'note.received', payload: { fail: true } },
      ]);
      const worker = await runWorkerUntilIdle(env);
      expect(worker.code).toBe(0);
      const status = JSON.parse((await cli(['status', '--json'])).stdout);
      expect(status.inbox).toMatchObject({ received: 0, processed: 1, dead: 1 });
      const listed = JSON.parse((await cli(['dead', 'list', '--side', 'inbox', '--json'])).stdout);
      expect(listed.map((m: { id: string }) => m.id)).toEqual([`note-bad-${name}`]);
      expect(listed[0].lastError).toMatch(/note handler refused the note/);
      const replay = await cli(['dead', 'replay', '--side', 'inbox', '--error', 'refused']);
      expect(replay.stdout).toMatch(/replayed 1 dead message\(s\) \(outbox 0, inbox 1\)/);
      expect(JSON.parse((await cli(['status', '--json'])).stdout).inbox).toMatchObject({ received: 1, dead: 0 });
    });

    it('purges finished messages older than the retention age, in bounded batches', async (ctx) => {
      if (skip) return ctx.skip(`${name} is not reachable`);
      const keep = await cli(['purge', '--older-than', '1d']);
      expect(keep.code).toBe(0);
      expect(keep.stdout).toMatch(/purged 0 sent outbox and 0 processed inbox/);

      await new Promise((r) => setTimeout(r, 50));
      const purge = await cli(['purge', '--older-than', '10ms', '--batch-size', '2']);
      expect(purge.code).toBe(0);
      expect(purge.stdout).toMatch(/purged 4 sent outbox and 1 processed inbox message\(s\)/);
      expect(purge.stderr).toMatch(/purge: outbox: 2 deleted/);
      expect(purge.stderr).toMatch(/warning: inbox: purging ids after 10ms/);
      const status = JSON.parse((await cli(['status', '--json'])).stdout);
      expect(status.outbox).toMatchObject({ sent: 0, pending: 0, dead: 0 });
      expect(status.inbox).toMatchObject({ processed: 0, received: 1 });
    });

    it('rejects bad option values with exit code 2', async (ctx) => {
      if (skip) return ctx.skip(`${name} is not reachable`);
      const result = await cli(['purge', '--older-than', 'soon']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/"soon" is not a duration/);
      expect((await cli(['purge'])).code).toBe(2);
    });

    it('an inbox id two sources used needs --source to show or replay; the error names the sources', async (ctx) => {
      if (skip) return ctx.skip(`${name} is not reachable`);
      const id = `same-${name}`;
      await database.receiveInInbox(['shop', 'bank'].map((source) => ({ id, source, type: 'note.twice', payload: { source } })));
      const inbox = database.storage.inbox;
      for (const row of await inbox.claimDue({ token: 'cli-dup', leaseMs: 60_000, limit: 10, types: ['note.twice'] })) {
        await inbox.markDead(row, { error: `refused from ${row.source}` });
      }
      const ambiguous = await cli(['dead', 'show', id]);
      expect(ambiguous.code).toBe(2);
      expect(ambiguous.stderr).toMatch(/ambiguous.*sources: bank, shop/);
      const shown = await cli(['dead', 'show', id, '--source', 'bank', '--json']);
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({ side: 'inbox', id, source: 'bank', lastError: 'refused from bank' });
      expect((await cli(['dead', 'show', id, '--source', 'nobody'])).code).toBe(1);
      const listed = JSON.parse((await cli(['dead', 'list', '--side', 'inbox', '--source', 'shop', '--json'])).stdout);
      expect(listed.map((m: { source: string; id: string }) => `${m.source}/${m.id}`)).toEqual([`shop/${id}`]);
      const refused = await cli(['dead', 'replay', id]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/sources: bank, shop/);
      const replay = await cli(['dead', 'replay', id, '--side', 'inbox', '--source', 'shop']);
      expect(replay.stdout).toMatch(/replayed 1 dead message\(s\) \(outbox 0, inbox 1\)/);
      expect(await inbox.get({ source: 'shop', id })).toMatchObject({ status: 'received' });
      expect(await inbox.get({ source: 'bank', id })).toMatchObject({ status: 'dead' });
    });

    it('status shows the circuit breakers outbox workers wrote (another process), until the worker stops', async (ctx) => {
      if (skip) return ctx.skip(`${name} is not reachable`);
      const { createOutbox, silentLogger, TransportError } = await import('@messagebox/core');
      const down = { name: 'billing', send: async () => Promise.reject(new TransportError('connection refused', { retryable: true })) };
      const outbox = createOutbox({
        store: database.storage.outbox,
        source: 'cli-test',
        logger: silentLogger,
        sendAfterCommit: false,
        retention: false,
        retry: { maxAttempts: 1 },
        flowControl: { worker: 'shop@4242', breaker: { failureThreshold: 1, openMs: 3_600_000 } },
      }).configure('order.breaker', { transport: down });
      await outbox.start();
      await outbox.transaction((tx) => outbox.add(tx, { type: 'order.breaker', payload: {} }));
      await outbox.resendUnsentMessages();
      for (let i = 0; i < 400 && !(await database.storage.outbox.listDestinationStates!()).length; i++) await new Promise((resolve) => setTimeout(resolve, 25));

      const report = JSON.parse((await cli(['status', '--json'])).stdout);
      expect(report.outbox.destinations).toEqual([expect.objectContaining({ destination: 'billing', worker: 'shop@4242', breaker: 'open', consecutiveFailures: 1 })]);
      const text = (await cli(['status'])).stdout;
      expect(text).toMatch(/Destinations \(circuit breakers/);
      expect(text).toMatch(/billing\s+shop@4242\s+open\s+1\s+in (59|1h)/);

      await outbox.stop();
      expect(JSON.parse((await cli(['status', '--json'])).stdout).outbox.destinations).toEqual([]);
      expect((await cli(['status'])).stdout).not.toMatch(/Destinations/);
    });
  });
}

/** Runs the worker until the inbox has nothing left to do, then stops it with SIGTERM. */
async function runWorkerUntilIdle(env: Record<string, string>) {
  const { startCli } = await import('./support/cli.js');
  const worker = startCli(['worker', '--only', 'inbox', '--shutdown-timeout', '5s', '--report-interval', '100ms'], { env });
  await worker.waitFor(/worker started/);
  await worker.waitFor(/handled 1, handler failures \d+, dead 1/);
  worker.child.kill('SIGTERM');
  return worker.exited;
}
