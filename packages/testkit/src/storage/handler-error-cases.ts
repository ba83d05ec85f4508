import { createInbox, DeadLetterError, RetryLaterError, silentLogger, type InboxEventMap, type InboxOptions, type InboxStore, type Message } from '@messagebox/core';
import { expect } from 'vitest';
import { ids, message, sorted } from './fixtures.js';
import type { StorageCase } from './types.js';

type Store = InboxStore<unknown>;

/** A policy whose own backoff (an hour) cannot be mistaken for the time a handler asked for. */
const slowBackoff = { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000, jitter: 0, maxAttempts: 10 };
/** Store time and this process's clock may differ by a statement's latency on a loaded machine. */
const SLACK_MS = 5_000;

function inboxOn(store: Store, options: Partial<InboxOptions<unknown>> = {}) {
  const inbox = createInbox({ store, logger: silentLogger, retention: false, pollIntervalMs: 3_600_000, retry: slowBackoff, ...options });
  const events: { [K in keyof InboxEventMap]?: InboxEventMap[K][] } = {};
  for (const name of ['handled', 'handlerFailed', 'dead'] as const) inbox.events.on(name, (event) => void (events[name] ??= [] as never[]).push(event as never));
  return { inbox, events };
}

const receiveAll = (store: Store, messages: readonly Message[]) =>
  store.transaction(async (tx) => {
    for (const m of messages) await store.receive(tx, m);
  });
/** The handler's own write, rolled back with it: a row of a type no handler takes. */
const businessOf = (m: Message): Message => ({ ...message('business.row', { of: m.id }), id: `biz-${m.id}` });

const c = (name: string, run: (inbox: Store) => Promise<void>): StorageCase => ({ name: `inbox: handler errors: ${name}`, run: (stores) => run(stores.inbox) });

export const handlerErrorCases: StorageCase[] = [
  c('DeadLetterError makes the message dead at once, attempts left or not: its writes rolled back, its reason recorded, one dead event', async (store) => {
    const { inbox, events } = inboxOn(store);
    let runs = 0;
    inbox.on('payment.created', async (m, { tx }) => {
      runs++;
      await store.receive(tx, businessOf(m));
      throw new DeadLetterError('unknown currency XYZ');
    });
    const poison = message('payment.created', { currency: 'XYZ' });
    await receiveAll(store, [poison]);
    expect(await inbox.processDue()).toBe(1);
    expect(await inbox.processDue()).toBe(0);
    expect(runs).toBe(1);
    expect(await store.get(poison)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'unknown currency XYZ — dead-lettered by the handler', leaseUntil: null });
    expect(await store.get(businessOf(poison))).toBeNull();
    expect(events.dead?.map((e) => [e.message.id, e.attempts, e.error])).toEqual([[poison.id, 1, 'unknown currency XYZ — dead-lettered by the handler']]);
    expect(events.handlerFailed).toBeUndefined();
    expect(await store.replay({ ids: [poison.id] })).toBe(1);
    expect(await store.get(poison)).toMatchObject({ status: 'received', attempts: 0 });
  }),

  c('RetryLaterError({ at }) makes the message due at that time, not after the backoff: lastError is its reason, handlerFailed says when', async (store) => {
    const { inbox, events } = inboxOn(store);
    const at = new Date(Date.now() + 120_000);
    inbox.on('payment.created', () => {
      throw new RetryLaterError('the bank opens at nine', { at });
    });
    const m = message('payment.created');
    await receiveAll(store, [m]);
    expect(await inbox.processDue()).toBe(1);
    const row = await store.get(m);
    expect(row).toMatchObject({ status: 'received', attempts: 1, lastError: 'the bank opens at nine', leaseUntil: null });
    expect(Math.abs(row!.availableAt.getTime() - at.getTime())).toBeLessThan(SLACK_MS);
    expect(events.handlerFailed).toHaveLength(1);
    expect(Math.abs(events.handlerFailed![0]!.retryAt.getTime() - at.getTime())).toBeLessThan(SLACK_MS);
    expect(await inbox.processDue()).toBe(0); // not due before `at`
  }),

  c('RetryLaterError({ afterMs: 0 }) runs the message again at once, though the backoff would wait an hour; the run counts as an attempt', async (store) => {
    const { inbox, events } = inboxOn(store);
    const attempts: number[] = [];
    inbox.on('payment.created', (_m, { attempt }) => {
      attempts.push(attempt);
      if (attempt === 1) throw new RetryLaterError('the ledger is being rebuilt', { afterMs: 0 });
    });
    const m = message('payment.created');
    await receiveAll(store, [m]);
    await inbox.processDue();
    expect(events.handlerFailed?.map((e) => e.delayMs)).toEqual([0]);
    expect(await inbox.processDue()).toBe(1);
    expect(attempts).toEqual([1, 2]);
    expect(await store.get(m)).toMatchObject({ status: 'processed', attempts: 2 });
  }),

  c('RetryLaterError on the last attempt: maxAttempts still applies, the message is dead', async (store) => {
    const { inbox, events } = inboxOn(store, { retry: { ...slowBackoff, maxAttempts: 1 } });
    inbox.on('payment.created', () => {
      throw new RetryLaterError('still not ready', { afterMs: 0 });
    });
    const m = message('payment.created');
    await receiveAll(store, [m]);
    await inbox.processDue();
    expect(await store.get(m)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'still not ready — gave up after 1 attempts' });
    expect(events.dead).toHaveLength(1);
  }),

  c('inline mode: DeadLetterError keeps the message dead (the handler\'s writes rolled back) and answers created; RetryLaterError keeps it due at the time asked; any other error stores nothing', async (store) => {
    const { inbox, events } = inboxOn(store, { mode: 'inline' });
    const at = new Date(Date.now() + 120_000);
    inbox.on('payment.created', async (m, { tx }) => {
      await store.receive(tx, businessOf(m));
      if ((m.payload as { kind: string }).kind === 'poison') throw new DeadLetterError('unknown currency XYZ');
      if ((m.payload as { kind: string }).kind === 'later') throw new RetryLaterError('the bank opens at nine', { at });
      throw new Error('flaky');
    });
    const [poison, later, flaky] = ['poison', 'later', 'flaky'].map((kind) => message('payment.created', { kind }));
    expect(await inbox.receive(poison!)).toEqual({ status: 'created' });
    expect(await store.get(poison!)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'unknown currency XYZ — dead-lettered by the handler' });
    expect(events.dead?.map((e) => e.message.id)).toEqual([poison!.id]);
    expect(await inbox.receive(poison!)).toEqual({ status: 'duplicate' });
    expect(await inbox.receive(later!)).toEqual({ status: 'created' });
    const row = await store.get(later!);
    expect(row).toMatchObject({ status: 'received', attempts: 1, lastError: 'the bank opens at nine', leaseUntil: null });
    expect(Math.abs(row!.availableAt.getTime() - at.getTime())).toBeLessThan(SLACK_MS);
    await expect(inbox.receive(flaky!)).rejects.toMatchObject({ code: 'handler_failed' });
    expect(await store.get(flaky!)).toBeNull();
    for (const m of [poison!, later!, flaky!]) expect(await store.get(businessOf(m))).toBeNull();
    expect(events.handled).toBeUndefined();
  }),

  c('a batch handler: RetryLaterError schedules every message of the batch for that time (no one-by-one rerun); DeadLetterError runs them one by one and only the poison one is dead', async (store) => {
    const { inbox, events } = inboxOn(store);
    const calls: number[] = [];
    let later = true;
    const poison = message('payment.refunded', { poison: true });
    inbox
      .onBatch('payment.created', (batch) => {
        calls.push(batch.length);
        if (later) throw new RetryLaterError('downstream asked for a pause', { afterMs: 0 });
      }, { maxMessages: 10 })
      .onBatch('payment.refunded', (batch) => {
        if (batch.some((m) => m.id === poison.id)) throw new DeadLetterError('refund of a payment that never existed');
      }, { maxMessages: 10 });
    const created = Array.from({ length: 3 }, () => message('payment.created'));
    const refunded = [message('payment.refunded'), poison, message('payment.refunded')];
    await receiveAll(store, [...created, ...refunded]);
    expect(await inbox.processDue()).toBe(6);
    expect(calls).toEqual([3]);
    for (const m of created) expect(await store.get(m)).toMatchObject({ status: 'received', attempts: 1, lastError: 'downstream asked for a pause' });
    expect(sorted(events.handlerFailed!.map((e) => e.message.id))).toEqual(sorted(ids(created)));
    expect(await store.get(poison)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'refund of a payment that never existed — dead-lettered by the handler' });
    for (const m of refunded.filter((r) => r !== poison)) expect(await store.get(m)).toMatchObject({ status: 'processed', attempts: 1 });
    later = false;
    expect(await inbox.processDue()).toBe(3);
    expect(calls).toEqual([3, 3]);
    for (const m of created) expect(await store.get(m)).toMatchObject({ status: 'processed', attempts: 2 });
  }),
];
