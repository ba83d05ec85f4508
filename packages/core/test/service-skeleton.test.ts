import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createMessage, createOutbox, type Logger } from '../src/index.js';
import { EndOfTurnQueue } from '../src/service/end-of-turn-queue.js';
import { ServiceSkeleton } from '../src/service/service-skeleton.js';
import { WorkRunner } from '../src/internal/work-runner.js';
import { groupBatches } from '../src/service/work-batch.js';
import { down, manualClock, recordingTransport, silent } from './support.js';

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 4_000 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!(await check())) throw new Error(`timed out waiting for ${what}`);
}

function recordingLogger() {
  const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: object, msg: string) => void lines.push({ level, msg, fields: fields as Record<string, unknown> });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('groupBatches', () => {
  it('keeps rows without a rule alone and chunks the others per key, in order, within the smallest limits of a batch', () => {
    type Row = { n: number; key?: string; max?: number; bytes?: number; maxBytes?: number };
    const rows: Row[] = [
      { n: 1 },
      { n: 2, key: 'a', max: 3 },
      { n: 3, key: 'b', max: 2 },
      { n: 4, key: 'a', max: 3 },
      { n: 5, key: 'a', max: 2 }, // lowers the open batch of "a" to 2 rows: it is full, so 5 starts a new one
      { n: 6, key: 'b', max: 2 },
      { n: 7, key: 'b', max: 2 },
      { n: 8, key: 'c', max: 10, bytes: 50, maxBytes: 40 }, // larger than its own limit: alone, unbatched
      { n: 9, key: 'c', max: 10, bytes: 30, maxBytes: 40 },
      { n: 10, key: 'c', max: 10, bytes: 20, maxBytes: 40 }, // 30 + 20 > 40: a new batch
    ];
    const batches = groupBatches(
      rows,
      (row) => (row.key ? { key: row.key, maxRows: row.max!, ...(row.maxBytes ? { maxBytes: row.maxBytes } : {}) } : undefined),
      (row) => row.bytes ?? 0,
    );
    expect(batches.map((b) => [b.batched, b.rows.map((r) => r.n)])).toEqual([
      [false, [1]],
      [true, [2, 4]],
      [true, [3, 6]],
      [true, [5]],
      [true, [7]],
      [false, [8]],
      [true, [9]],
      [true, [10]],
    ]);
  });
});

describe('EndOfTurnQueue', () => {
  it('hands everything pushed in one turn of the event loop to one flush, and settled() waits for it', async () => {
    const flushes: number[][] = [];
    const queue = new EndOfTurnQueue<number>((items) => void flushes.push(items));
    queue.push([1]);
    queue.push([2, 3]);
    queue.push([]);
    expect(flushes).toEqual([]);
    await queue.settled();
    expect(flushes).toEqual([[1, 2, 3]]);
    queue.push([4]);
    await queue.settled();
    expect(flushes).toEqual([[1, 2, 3], [4]]);
  });
});

describe('ServiceSkeleton', () => {
  function skeleton(due: number[], batchOf: (n: number) => string | undefined = () => undefined) {
    const claims: number[] = [];
    const processed: Array<{ rows: number[]; batched: boolean }> = [];
    const released: number[] = [];
    const service = new ServiceSkeleton<number>(
      {
        claim: async (limit) => (claims.push(limit), due.splice(0, limit)),
        batchRule: (n) => (batchOf(n) ? { key: batchOf(n), maxRows: 10 } : undefined),
        process: async (batch) => void processed.push({ rows: [...batch.rows], batched: batch.batched }),
        release: async (rows) => void released.push(...rows),
      },
      { name: 'outbox', batchSize: 4, concurrency: 2, pollIntervalMs: 3_600_000, maxQueued: 100, logger: silent },
    );
    return { service, claims, processed, released };
  }

  it('a pass claims batch after batch until a claim comes back short, and processes every row once', async () => {
    const { service, claims, processed } = skeleton(Array.from({ length: 10 }, (_, i) => i));
    expect(await service.pass()).toBe(10);
    expect(claims).toEqual([4, 4, 4]);
    expect(processed.flatMap((p) => p.rows).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a pass stops at maxMessages and when proceed() says so', async () => {
    const limited = skeleton(Array.from({ length: 10 }, (_, i) => i));
    expect(await limited.service.pass({ maxMessages: 6 })).toBe(6);
    expect(limited.claims).toEqual([4, 2]);
    const stopped = skeleton(Array.from({ length: 10 }, (_, i) => i));
    let go = 2;
    expect(await stopped.service.pass({ proceed: () => go-- > 0 })).toBe(8);
    expect(stopped.claims).toEqual([4, 4]);
  });

  it('submitFresh runs rows without a batch rule at once and batches the others of one turn together', async () => {
    const { service, processed } = skeleton([], (n) => (n >= 10 ? 'big' : undefined));
    service.submitFresh([1, 10]);
    service.submitFresh([11, 2]);
    await service.idle();
    expect(processed).toEqual([
      { rows: [1], batched: false },
      { rows: [2], batched: false },
      { rows: [10, 11], batched: true },
    ]);
  });
});

describe('outbox and inbox share the skeleton', () => {
  it('a failure is retried, then dead, with the same log lines and events on both sides', async () => {
    const retry = { initialDelayMs: 1_000, factor: 2, maxAttempts: 2, jitter: 0 };
    const clock = manualClock();

    const outboxLog = recordingLogger();
    const transport = recordingTransport();
    transport.failAlways(down());
    const outboxStore = createMemoryOutboxStore({ clock });
    const outbox = createOutbox({ store: outboxStore, source: 'vault', clock, random: () => 0.5, logger: outboxLog.logger, retry, retention: false }).configure('t', { transport });
    const outboxEvents: string[] = [];
    outbox.events.on('failed', (e) => void outboxEvents.push(`failed ${e.attempts} ${e.delayMs}`));
    outbox.events.on('dead', (e) => void outboxEvents.push(`dead ${e.attempts}`));
    await outboxStore.transaction((tx) => outbox.add(tx, { type: 't', payload: 1 }));
    expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: 1, retried: 1 });
    clock.advance(1_000);
    expect(await outbox.resendUnsentMessages()).toMatchObject({ attempted: 1, dead: 1 });

    const inboxLog = recordingLogger();
    const inboxStore = createMemoryInboxStore({ clock });
    const inbox = createInbox({ store: inboxStore, clock, random: () => 0.5, logger: inboxLog.logger, retry, retention: false, pollIntervalMs: 3_600_000 }).on('t', () => {
      throw new Error('handler down');
    });
    const inboxEvents: string[] = [];
    inbox.events.on('handlerFailed', (e) => void inboxEvents.push(`failed ${e.attempts} ${e.delayMs}`));
    inbox.events.on('dead', (e) => void inboxEvents.push(`dead ${e.attempts}`));
    await inbox.receive(createMessage({ type: 't', payload: 1 }, { source: 'vault', now: new Date(clock.now()) }));
    await inbox.idle();
    clock.advance(1_000);
    expect(await inbox.processDue()).toBe(1);

    expect(outboxEvents).toEqual(['failed 1 1000', 'dead 2']);
    expect(inboxEvents).toEqual(outboxEvents);
    const said = (lines: typeof outboxLog.lines) => lines.filter((l) => l.level !== 'debug').map((l) => [l.level, l.fields.attempts]);
    expect(said(outboxLog.lines)).toEqual([
      ['info', 1],
      ['warn', 2],
    ]);
    expect(said(inboxLog.lines)).toEqual(said(outboxLog.lines));
    expect(outboxLog.lines.map((l) => l.msg)).toEqual(['delivery failed; will retry', 'message is dead']);
    expect(inboxLog.lines.map((l) => l.msg)).toEqual(['handler failed; will retry', 'inbox message is dead']);
  });

  it('both retention tasks delete finished rows and say so in the same words', async () => {
    const clock = manualClock();
    const retention = { keepMs: 5_000, batchSize: 2, intervalMs: 10 };

    const outboxLog = recordingLogger();
    const outboxStore = createMemoryOutboxStore({ clock });
    const outbox = createOutbox({ store: outboxStore, source: 'vault', clock, logger: outboxLog.logger, retention, pollIntervalMs: 3_600_000 }).configure('t', { transport: recordingTransport() });
    for (let i = 0; i < 3; i++) await outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: i }));
    await outbox.idle();

    const inboxLog = recordingLogger();
    const inboxStore = createMemoryInboxStore({ clock });
    const inbox = createInbox({ store: inboxStore, clock, logger: inboxLog.logger, retention, pollIntervalMs: 3_600_000 }).on('t', () => {});
    for (let i = 0; i < 3; i++) await inbox.receive(createMessage({ type: 't', payload: i }, { source: 'vault', now: new Date(clock.now()) }));
    await inbox.idle();

    clock.advance(6_000);
    await Promise.all([outbox.start(), inbox.start()]);
    await until(async () => (await outboxStore.stats()).sent === 0 && (await inboxStore.stats()).processed === 0, 'both purges');
    await Promise.all([outbox.stop(), inbox.stop()]);
    const purged = (lines: typeof outboxLog.lines) => lines.filter((l) => l.msg.includes('retention: deleted')).reduce((n, l) => n + Number(l.fields.deleted), 0);
    expect(purged(outboxLog.lines)).toBe(3);
    expect(purged(inboxLog.lines)).toBe(3);
    expect(outboxLog.lines.find((l) => l.msg.includes('retention:'))?.msg).toBe('outbox retention: deleted sent messages');
    expect(inboxLog.lines.find((l) => l.msg.includes('retention:'))?.msg).toBe('inbox retention: deleted processed messages');
  });
});

describe('WorkRunner bounds', () => {
  function blockedRunner(options: { maxQueued: number; release?: (rows: number[]) => Promise<void> }) {
    const { logger, lines } = recordingLogger();
    const released: number[][] = [];
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    let started = 0;
    const runner = new WorkRunner<number[]>(
      {
        claim: async () => [],
        process: async () => {
          started++;
          await blocked;
        },
        release: async (items) => {
          released.push(items.flat());
          await options.release?.(items.flat());
        },
        size: (item) => item.length,
      },
      { name: 'inbox', batchSize: 100, concurrency: 1, pollIntervalMs: 3_600_000, maxQueued: options.maxQueued, logger },
    );
    return { runner, released, lines, unblock, started: () => started };
  }

  it('maxQueued counts the rows of a batch, not the batch', async () => {
    const { runner, released, unblock, started } = blockedRunner({ maxQueued: 10 });
    runner.submit([[0]]); // takes the only slot
    await until(() => started() === 1, 'the first item to start');
    runner.submit([[1, 2, 3, 4, 5, 6, 7, 8]]); // 8 rows wait: still room for 2
    expect(runner.hasRoom).toBe(true);
    runner.submit([[9, 10, 11, 12, 13]]); // 8 + 5 > 10: given back
    await until(() => released.length === 1, 'the overflow to be given back');
    expect(released).toEqual([[9, 10, 11, 12, 13]]);
    runner.submit([[14, 15]]); // exactly 10 rows waiting
    expect(runner.hasRoom).toBe(false);
    unblock();
    await runner.idle();
    expect(started()).toBe(3);
  });

  it('a single batch larger than maxQueued still runs when nothing else waits', async () => {
    const { runner, released, unblock, started } = blockedRunner({ maxQueued: 3 });
    runner.submit([[0, 1, 2, 3, 4]]);
    unblock();
    await runner.idle();
    expect(started()).toBe(1);
    expect(released).toEqual([]);
  });

  it('stop() does not wait forever for a store that hangs while taking back the queued messages', async () => {
    const { runner, released, lines } = blockedRunner({ maxQueued: 10, release: () => new Promise(() => {}) });
    runner.submit([[0]]);
    runner.submit([[1, 2]]);
    expect(await runner.stop(50)).toBe(false); // resolves although the release never does
    expect(released).toEqual([[1, 2]]);
    expect(lines.some((l) => l.level === 'warn' && l.msg.includes('did not finish in time'))).toBe(true);
  });
});
