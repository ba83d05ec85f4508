import { describe, expect, it } from 'vitest';
import { createMemoryInboxStore, createMemoryOutboxStore, createMessage, createOperations, MessageboxError, type OutboxStore } from '../../src/index.js';
import { manualClock } from '../support.js';

const MINUTE = 60_000;

async function setup() {
  const clock = manualClock(Date.parse('2030-01-01T00:00:30Z'));
  const outbox = createMemoryOutboxStore({ clock });
  const inbox = createMemoryInboxStore({ clock });
  const ops = createOperations({ outbox, inbox }, { clock });
  const add = async (type: string) => {
    const message = createMessage({ type, source: 'vault', payload: {} }, { now: new Date(clock.now()) });
    await outbox.transaction((tx) => outbox.add(tx, [message]));
    return message;
  };
  const claim = async (id: string, leaseMs = MINUTE) => (await outbox.claimDue({ token: `t-${id}`, leaseMs, limit: 1, ids: [id] }))[0]!;
  return { clock, outbox, inbox, ops, add, claim };
}

describe('operations for dashboards (in-memory stores)', () => {
  it('overview: counts per side and type, in flight, oldest waiting age, attempts, throughput per minute', async () => {
    const { clock, outbox, ops, add, claim } = await setup();
    const sentEarly = await add('payment.created');
    await outbox.markSent([await claim(sentEarly.id)]);
    clock.advance(2 * MINUTE);
    const waiting = await add('payment.created');
    clock.advance(MINUTE);
    for (let i = 0; i < 2; i++) {
      const m = await add('payment.created');
      await outbox.markSent([await claim(m.id)]);
    }
    const flying = await add('invoice.sent');
    await claim(flying.id, 10 * MINUTE);
    const dead = await add('invoice.sent');
    await outbox.markDead(await claim(dead.id), { error: 'HTTP 400' });
    const report = await ops.overview({ buckets: 5 });
    expect(report.bucketStarts.map((d) => d.toISOString())).toEqual(['2029-12-31T23:59:00.000Z', '2030-01-01T00:00:00.000Z', '2030-01-01T00:01:00.000Z', '2030-01-01T00:02:00.000Z', '2030-01-01T00:03:00.000Z']);
    const payments = report.outbox!.types.find((t) => t.type === 'payment.created')!;
    expect(payments).toMatchObject({ waiting: 1, inFlight: 0, finished: 3, dead: 0, waitingAttempts: 0, oldestWaitingAgeMs: MINUTE, throughput: [0, 1, 0, 0, 2] });
    expect(payments.oldestWaitingAt).toEqual(waiting.createdAt);
    const invoices = report.outbox!.types.find((t) => t.type === 'invoice.sent')!;
    expect(invoices).toMatchObject({ waiting: 1, inFlight: 1, finished: 0, dead: 1, waitingAttempts: 1, maxAttempts: 1, throughput: [0, 0, 0, 0, 0] });
    expect(report.outbox).toMatchObject({ waiting: 2, inFlight: 1, finished: 3, dead: 1, throughput: [0, 1, 0, 0, 2], oldestWaitingAgeMs: MINUTE });
    expect(report.inbox).toMatchObject({ waiting: 0, dead: 0, types: [] });
    await expect(ops.overview({ buckets: 0 })).rejects.toThrow(/buckets/);
  });

  it('pageDead: keyset pages in list order, no row twice or missed, also when new rows die meanwhile', async () => {
    const { clock, outbox, ops, add, claim } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const m = await add(i % 2 ? 'a' : 'b');
      await outbox.markDead(await claim(m.id), { error: `HTTP ${i % 2 ? 503 : 400}` });
      ids.push(m.id);
      if (i % 3 === 0) clock.advance(1);
    }
    const seen: string[] = [];
    let page = await ops.pageDead({ side: 'outbox', limit: 3 });
    seen.push(...page.messages.map((m) => m.id));
    const late = await add('a');
    await outbox.markDead(await claim(late.id), { error: 'HTTP 503' });
    while (page.next) {
      page = await ops.pageDead({ side: 'outbox', limit: 3, after: page.next });
      seen.push(...page.messages.map((m) => m.id));
    }
    expect(seen).toEqual([...ids, late.id]);
    const filtered = await ops.pageDead({ side: 'outbox', limit: 10, type: 'a', errorContains: '503' });
    expect(filtered.messages.map((m) => m.id)).toEqual([ids[1], ids[3], ids[5], late.id]);
    expect(filtered.next).toBeNull();
    expect(await ops.countDead({ type: 'a', errorContains: '503' })).toEqual({ outbox: 4, inbox: 0, total: 4 });
    expect(await ops.countDead()).toEqual({ outbox: 8, inbox: 0, total: 8 });
  });

  it('pageDead and countDead refuse bad input with invalid_options', async () => {
    const { ops } = await setup();
    const refused = async (promise: Promise<unknown>, text: RegExp) => {
      const error = await promise.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(MessageboxError);
      expect((error as MessageboxError).code).toBe('invalid_options');
      expect((error as Error).message).toMatch(text);
    };
    await refused(ops.pageDead({ side: 'outbox', after: 'not-a-cursor' }), /cursor/);
    await refused(ops.pageDead({ side: 'outbox', after: btoa('[1,2,3]') }), /cursor/);
    await refused(ops.pageDead({ side: 'outbox', limit: 0 }), /limit/);
    await refused(ops.pageDead({ side: 'sideways' as never }), /side must be/);
    await refused(ops.pageDead(undefined as never), /side/);
    await refused(ops.countDead({ olderThanMs: -1 }), /olderThanMs/);
  });

  it('refuses overview and countDead on a store without them, naming what is missing', async () => {
    const { outbox } = await setup();
    const { overview: _o, count: _c, ...bare } = outbox;
    const ops = createOperations({ outbox: bare as OutboxStore<unknown> });
    await expect(ops.overview()).rejects.toThrow(/outbox store has no overview\(\)/);
    await expect(ops.countDead()).rejects.toThrow(/outbox store has no count\(\)/);
  });
});
