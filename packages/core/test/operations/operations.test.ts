import { describe, expect, it } from 'vitest';
import {
  createInbox,
  createMemoryInboxStore,
  createMemoryOutboxStore,
  createOperations,
  createOutbox,
  formatDuration,
  MessageboxError,
  parseDuration,
  TransportError,
} from '../../src/index.js';
import { manualClock, recordingTransport, silent } from '../support.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

async function setup() {
  const clock = manualClock();
  const outboxStore = createMemoryOutboxStore({ clock });
  const inboxStore = createMemoryInboxStore({ clock });
  const transport = recordingTransport();
  const outbox = createOutbox({
    store: outboxStore,
    source: 'vault',
    clock,
    random: () => 0.5,
    logger: silent,
    sendAfterCommit: false,
    retention: false,
    retry: { initialDelayMs: 1_000, maxAttempts: 2 },
  })
    .configure('payment.created', { transport })
    .configure('payment.refunded', { transport });
  const inbox = createInbox({ store: inboxStore, clock, logger: silent, retention: false, retry: { maxAttempts: 1 } })
    .on('payment.created', async () => {})
    .on('payment.failed', async () => {
      throw new Error('ledger is locked');
    });
  const ops = createOperations({ outbox, inbox }, { clock });
  const add = (type: string, payload: object = {}) => outbox.transaction((tx) => outbox.add(tx, { type, payload: payload as never }));
  return { clock, outboxStore, inboxStore, transport, outbox, inbox, ops, add };
}

/** Two outbox messages dead (one per type), one pending and retrying, one sent. */
async function withHistory() {
  const env = await setup();
  const { clock, transport, outbox, add } = env;
  const deadCreated = await add('payment.created', { n: 1 });
  clock.advance(DAY);
  const deadRefunded = await add('payment.refunded', { n: 2 });
  transport.failAlways(new TransportError('connect ECONNREFUSED 127.0.0.1:4000'));
  await outbox.resendUnsentMessages();
  clock.advance(MINUTE);
  await outbox.resendUnsentMessages();
  transport.failAlways(undefined);
  clock.advance(MINUTE);
  const retrying = await add('payment.created', { n: 3 });
  transport.failNext(new TransportError('503 from receiver', { status: 503 }));
  await outbox.resendUnsentMessages();
  const sent = await add('payment.created', { n: 4 });
  await outbox.resendUnsentMessages();
  return { ...env, deadCreated, deadRefunded, retrying, sent };
}

describe('operations: status', () => {
  it('counts by state, measures the oldest pending age and lists failing messages', async () => {
    const { ops, clock, retrying } = await withHistory();
    clock.advance(5 * MINUTE);
    const status = await ops.status();
    expect(status.outbox).toMatchObject({ pending: 1, sent: 1, dead: 2 });
    expect(status.outbox!.oldestPendingAgeMs).toBe(5 * MINUTE);
    expect(status.outbox!.oldestPendingAt?.toISOString()).toBe(new Date(clock.now() - 5 * MINUTE).toISOString());
    const errors = status.outbox!.recentErrors;
    expect(errors[0]).toMatchObject({ id: retrying.id, status: 'pending', lastError: '503 from receiver' });
    expect(errors[0]!.nextAttemptAt).toBeInstanceOf(Date);
    expect(errors.slice(1).map((e) => e.status)).toEqual(['dead', 'dead']);
    expect(errors[1]!.lastError).toContain('ECONNREFUSED');
    expect(status.inbox).toMatchObject({ received: 0, processed: 0, dead: 0, oldestPendingAt: null, oldestPendingAgeMs: null, recentErrors: [] });
  });

  it('reports only the configured side', async () => {
    const ops = createOperations({ inbox: createMemoryInboxStore() });
    const status = await ops.status();
    expect(status.outbox).toBeUndefined();
    expect(status.inbox?.received).toBe(0);
  });

  it('limits the failing messages listed', async () => {
    const { ops } = await withHistory();
    expect((await ops.status({ errors: 1 })).outbox!.recentErrors).toHaveLength(1);
    expect((await ops.status({ errors: 0 })).outbox!.recentErrors).toHaveLength(0);
  });
});

describe('operations: dead letters', () => {
  it('lists dead messages of both sides, filtered by type, age and error', async () => {
    const env = await withHistory();
    const { ops, inbox, deadCreated, deadRefunded } = env;
    await inbox.receive({ id: 'in-1', source: 'shop', type: 'payment.failed', payload: {}, headers: {}, createdAt: new Date(env.clock.now()) });
    await inbox.idle();
    const all = await ops.listDead();
    expect(all.map((m) => [m.side, m.id])).toEqual([
      ['outbox', deadCreated.id],
      ['outbox', deadRefunded.id],
      ['inbox', 'in-1'],
    ]);
    expect((await ops.listDead({ type: 'payment.refunded' })).map((m) => m.id)).toEqual([deadRefunded.id]);
    expect((await ops.listDead({ olderThanMs: DAY })).map((m) => m.id)).toEqual([deadCreated.id]);
    expect((await ops.listDead({ errorContains: 'ledger is locked' })).map((m) => m.id)).toEqual(['in-1']);
    expect((await ops.listDead({ side: 'outbox' })).map((m) => m.side)).toEqual(['outbox', 'outbox']);
    expect(await ops.listDead({ limit: 1 })).toHaveLength(1);
  });

  it('shows one message with its last error and attempts, or null', async () => {
    const { ops, deadRefunded } = await withHistory();
    const shown = await ops.show(deadRefunded.id);
    expect(shown).toMatchObject({ side: 'outbox', id: deadRefunded.id, status: 'dead', attempts: 2, payload: { n: 2 } });
    expect(shown!.lastError).toMatch(/ECONNREFUSED.*gave up after 2 attempts/);
    expect(await ops.show('no-such-id')).toBeNull();
    expect(await ops.show(deadRefunded.id, { side: 'inbox' })).toBeNull();
  });

  it('inbox messages are (source, id): an id two sources used needs the source to show or replay', async () => {
    const { ops, inbox, inboxStore, clock } = await setup();
    for (const source of ['shop', 'bank']) {
      await inbox.receive({ id: 'in-42', source, type: 'payment.failed', payload: { source }, headers: {}, createdAt: new Date(clock.now()) });
    }
    await inbox.idle();
    await expect(ops.show('in-42', { side: 'inbox' })).rejects.toMatchObject({ code: 'invalid_options', message: expect.stringMatching(/in-42 \(sources: bank, shop\)/) });
    expect(await ops.show('in-42', { side: 'inbox', source: 'bank' })).toMatchObject({ side: 'inbox', source: 'bank', payload: { source: 'bank' } });
    expect(await ops.show('in-42', { source: 'nobody' })).toBeNull();
    await expect(ops.replayDead({ ids: ['in-42'] })).rejects.toMatchObject({ code: 'invalid_options', message: expect.stringContaining('bank, shop') });
    expect((await ops.listDead({ source: 'shop' })).map((m) => [m.source, m.id])).toEqual([['shop', 'in-42']]);
    expect(await ops.replayDead({ ids: ['in-42'], source: 'shop' })).toEqual({ outbox: 0, inbox: 1, total: 1 });
    expect(await inboxStore.get({ source: 'shop', id: 'in-42' })).toMatchObject({ status: 'received', attempts: 0 });
    expect(await inboxStore.get({ source: 'bank', id: 'in-42' })).toMatchObject({ status: 'dead' });
  });

  it('replays one, several by filter, or all, and the replayed messages are sent', async () => {
    const { ops, outbox, transport, clock, deadCreated, deadRefunded } = await withHistory();
    expect(await ops.replayDead({ ids: [deadRefunded.id] })).toEqual({ outbox: 1, inbox: 0, total: 1 });
    expect((await ops.show(deadRefunded.id))).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await ops.replayDead({ type: 'payment.created', errorContains: 'nothing like this' })).toMatchObject({ total: 0 });
    expect(await ops.replayDead({ all: true })).toMatchObject({ outbox: 1, total: 1 });
    clock.advance(MINUTE);
    await outbox.resendUnsentMessages();
    expect(transport.delivered.map((m) => m.id)).toEqual(expect.arrayContaining([deadCreated.id, deadRefunded.id]));
    expect((await ops.status()).outbox).toMatchObject({ dead: 0, pending: 0, sent: 4 });
  });

  it('refuses to replay everything without `all`', async () => {
    const { ops } = await withHistory();
    await expect(ops.replayDead({})).rejects.toThrow(MessageboxError);
    await expect(ops.replayDead({})).rejects.toThrow(/all: true/);
    expect((await ops.status()).outbox!.dead).toBe(2);
  });
});

describe('operations: purge', () => {
  it('deletes finished messages older than the retention in bounded batches, keeps dead and pending ones', async () => {
    const env = await setup();
    const { ops, outbox, inbox, clock, add } = env;
    for (let i = 0; i < 7; i++) await add('payment.created', { i });
    await outbox.resendUnsentMessages();
    for (let i = 0; i < 3; i++) {
      await inbox.receive({ id: `in-${i}`, source: 'shop', type: 'payment.created', payload: {}, headers: {}, createdAt: new Date(clock.now()) });
    }
    await inbox.processDue();
    clock.advance(2 * DAY);
    const fresh = await add('payment.created', { fresh: true });
    await outbox.resendUnsentMessages();
    const pending = await add('payment.created', { pending: true });

    const progress: Array<[string, number]> = [];
    const report = await ops.purge({ olderThanMs: DAY, batchSize: 3, onProgress: ({ side, deleted }) => progress.push([side, deleted]) });
    expect(report).toMatchObject({ outbox: 7, inbox: 3, total: 10 });
    expect(progress).toEqual([
      ['outbox', 3],
      ['outbox', 6],
      ['outbox', 7],
      ['inbox', 3],
      ['inbox', 3],
    ]);
    expect(await ops.show(fresh.id)).toMatchObject({ status: 'sent' });
    expect(await ops.show(pending.id)).toMatchObject({ status: 'pending' });
    expect((await ops.status()).inbox!.processed).toBe(0);
  });

  it('stops at maxRows and warns when the inbox would forget ids senders may still retry', async () => {
    const { ops, outbox, add, clock } = await setup();
    for (let i = 0; i < 5; i++) await add('payment.created', { i });
    await outbox.resendUnsentMessages();
    clock.advance(DAY);
    const report = await ops.purge({ olderThanMs: 1_000, maxRows: 2, batchSize: 10 });
    expect(report.outbox).toBe(2);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/senders may retry for up to/);
    expect((await ops.purge({ olderThanMs: DAY / 2, side: 'outbox' })).warnings).toEqual([]);
  });

  it('rejects a missing or negative age', async () => {
    const { ops } = await setup();
    await expect(ops.purge({ olderThanMs: -1 })).rejects.toThrow(/olderThanMs/);
    await expect(ops.purge({} as never)).rejects.toThrow(/olderThanMs/);
  });
});

describe('operations: resend', () => {
  it('runs one pass and reports what it did and what is left, with progress', async () => {
    const { ops, add, transport } = await setup();
    await add('payment.created');
    await add('payment.created');
    await add('payment.refunded');
    transport.failNext(new TransportError('receiver down'));
    const seen: number[] = [];
    const report = await ops.resend({ onProgress: (r) => seen.push(r.attempted) });
    expect(report).toMatchObject({ attempted: 3, sent: 2, retried: 1, dead: 0, remaining: { pending: 1, dead: 0 } });
    expect(seen).toEqual([1, 2, 3]);
    expect(report.remaining.oldestPendingAt).toBeInstanceOf(Date);
  });

  it('needs the outbox service, not only its store', async () => {
    const ops = createOperations({ outbox: createMemoryOutboxStore() });
    await expect(ops.resend()).rejects.toThrow(/outbox service/);
  });

  it('rejects when the store fails, so a cron job exits non-zero', async () => {
    const { outboxStore, outbox } = await setup();
    outboxStore.claimDue = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    };
    await expect(createOperations({ outbox }).resend()).rejects.toThrow(/ECONNREFUSED/);
  });

  it('rejects when the store fails while recording outcomes mid-pass', async () => {
    const { outboxStore, outbox, add } = await setup();
    await add('payment.created');
    await add('payment.created');
    outboxStore.markSent = async () => {
      throw new Error('connection terminated');
    };
    await expect(createOperations({ outbox }).resend()).rejects.toMatchObject({ code: 'store_failed', message: expect.stringContaining('recording 2 of 2 attempts') });
  });
});

describe('operations: targets and durations', () => {
  it('needs an outbox or an inbox', () => {
    expect(() => createOperations({})).toThrow(/outbox.*inbox/);
  });

  it('says when a side is asked for but not configured', async () => {
    const ops = createOperations({ outbox: createMemoryOutboxStore() });
    await expect(ops.listDead({ side: 'inbox' })).rejects.toThrow(/no inbox is configured/);
  });

  it('parses and formats durations', () => {
    expect(parseDuration('7d')).toBe(7 * DAY);
    expect(parseDuration('1h30m')).toBe(90 * MINUTE);
    expect(parseDuration('250')).toBe(250);
    expect(() => parseDuration('7 days')).toThrow(/not a duration/);
    expect(formatDuration(DAY + 2 * 3_600_000 + 5_000)).toBe('1d 2h');
    expect(formatDuration(450)).toBe('450ms');
  });
});
