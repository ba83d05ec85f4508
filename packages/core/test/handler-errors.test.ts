import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMessage, DeadLetterError, isMessageboxError, RetryLaterError } from '../src/index.js';
import { manualClock, silent } from './support.js';

const message = () => createMessage({ type: 'payment.created', payload: { amount: 1 } }, { source: 'vault', now: new Date() });

/** What a DeadLetterError or RetryLaterError from another copy of @messagebox/core looks like here: the same brand and code, another class. */
function fromAnotherCopy(code: string, text: string, fields: Record<string, unknown> = {}): Error {
  const error = Object.assign(new Error(`[messagebox] ${text}`), { code, ...fields });
  Object.defineProperty(error, Symbol.for('@messagebox/core/MessageboxError'), { value: true });
  return error;
}

function setup() {
  const clock = manualClock();
  const store = createMemoryInboxStore({ clock });
  const inbox = createInbox({ store, clock, random: () => 0.5, logger: silent, retention: false, pollIntervalMs: 3_600_000, retry: { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000, maxAttempts: 5, jitter: 0 } });
  return { clock, store, inbox };
}

describe('handler errors', () => {
  it('are messagebox errors with a code, a name and the [messagebox] prefix', () => {
    const dead = new DeadLetterError('no such account', { cause: new Error('404') });
    expect(dead).toMatchObject({ name: 'DeadLetterError', code: 'dead_letter', message: '[messagebox] no such account' });
    expect(isMessageboxError(dead, 'dead_letter')).toBe(true);
    const at = new Date('2030-01-01T09:00:00Z');
    expect(new RetryLaterError('closed', { at })).toMatchObject({ name: 'RetryLaterError', code: 'retry_later', retryAt: at, retryAfterMs: undefined });
    expect(new RetryLaterError('busy', { afterMs: 500 })).toMatchObject({ retryAt: undefined, retryAfterMs: 500 });
    expect(isMessageboxError(new RetryLaterError('busy', { afterMs: 0 }), 'retry_later')).toBe(true);
  });

  it('RetryLaterError refuses a bad time with invalid_options', () => {
    const bad = [{}, { at: new Date('nope') }, { afterMs: -1 }, { afterMs: Number.NaN }, { afterMs: Infinity }, { at: new Date(), afterMs: 1 }, { at: '2030-01-01' }];
    for (const options of bad) expect(() => new RetryLaterError('x', options as never)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });

  it('an error of another copy of core is recognised by its brand: dead at once, or retried exactly when asked', async () => {
    const { clock, store, inbox } = setup();
    const [poison, later] = [message(), message()];
    inbox.on('payment.created', (m) => {
      if (m.id === poison.id) throw fromAnotherCopy('dead_letter', 'poison');
      throw fromAnotherCopy('retry_later', 'later', { retryAfterMs: 2_000, retryAt: undefined });
    });
    await store.transaction(async (tx) => {
      await store.receive(tx, poison);
      await store.receive(tx, later);
    });
    await inbox.processDue();
    expect(await store.get(poison)).toMatchObject({ status: 'dead', attempts: 1, lastError: 'poison — dead-lettered by the handler' });
    const row = await store.get(later);
    expect(row).toMatchObject({ status: 'received', lastError: 'later' });
    expect(row!.availableAt.getTime()).toBe(clock.now() + 2_000);
  });

  it('RetryLaterError({ at }) in the past makes the message due now; its delay is never negative', async () => {
    const { clock, store, inbox } = setup();
    const delays: number[] = [];
    inbox.events.on('handlerFailed', (e) => void delays.push(e.delayMs));
    inbox.on('payment.created', () => {
      throw new RetryLaterError('should have run yesterday', { at: new Date(clock.now() - 86_400_000) });
    });
    const m = message();
    await store.transaction((tx) => store.receive(tx, m));
    await inbox.processDue();
    expect(delays).toEqual([0]);
    expect((await store.get(m))!.availableAt.getTime()).toBe(clock.now());
  });

  it('an ordinary error still follows the retry policy', async () => {
    const { clock, store, inbox } = setup();
    inbox.on('payment.created', () => {
      throw new Error('flaky');
    });
    const m = message();
    await store.transaction((tx) => store.receive(tx, m));
    await inbox.processDue();
    expect((await store.get(m))!.availableAt.getTime()).toBe(clock.now() + 3_600_000);
  });

  it('an invalid payload a handler meets (say, in its own outbox.add) is retried, not dead at once: a deploy can fix it', async () => {
    const { clock, store, inbox } = setup();
    inbox.on('payment.created', () => {
      throw fromAnotherCopy('invalid_payload', 'payload for "ledger.booked" is invalid: amount: expected number');
    });
    const m = message();
    await store.transaction((tx) => store.receive(tx, m));
    await inbox.processDue();
    const row = await store.get(m);
    expect(row).toMatchObject({ status: 'received', attempts: 1 });
    expect(row!.availableAt.getTime()).toBe(clock.now() + 3_600_000);
  });

  it('RetryLaterError asking for a time after maxAgeMs dead-letters the message now, saying why', async () => {
    const clock = manualClock();
    const store = createMemoryInboxStore({ clock });
    const inbox = createInbox({ store, clock, logger: silent, retention: false, pollIntervalMs: 3_600_000, retry: { maxAttempts: 5, maxAgeMs: 60_000 } });
    inbox.on('payment.created', () => {
      throw new RetryLaterError('the ledger closes for the year', { afterMs: 86_400_000 });
    });
    const m = message();
    await store.transaction((tx) => store.receive(tx, m));
    await inbox.processDue();
    const row = await store.get(m);
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row!.lastError).toMatch(/^the ledger closes for the year — gave up: the retry asked for \(in 86400000 ms\) falls after maxAgeMs \(60000 ms\)$/);
  });

  it('inline: a RetryLaterError keeps the message, answers created, and warns once when no worker runs in this process', async () => {
    const clock = manualClock();
    const store = createMemoryInboxStore({ clock });
    const warnings: string[] = [];
    const logger = { ...silent, warn: (_fields: unknown, text: string) => void warnings.push(text) };
    const inbox = createInbox({ store, clock, mode: 'inline', logger, retention: false, pollIntervalMs: 3_600_000 });
    inbox.on('payment.created', () => {
      throw new RetryLaterError('the ledger is closed', { afterMs: 1_000 });
    });
    const [first, second] = [message(), message()];
    expect(await inbox.receive(first)).toEqual({ status: 'created' });
    expect(await inbox.receive(second)).toEqual({ status: 'created' });
    expect(await store.get(first)).toMatchObject({ status: 'received', attempts: 1, lastError: 'the ledger is closed' });
    expect(warnings.filter((text) => text.includes('needs inbox.start() or inbox.processDue()'))).toHaveLength(1);
  });
});
