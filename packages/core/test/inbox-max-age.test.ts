import { describe, expect, it } from 'vitest';
import { createInbox, createMemoryInboxStore, createMessage } from '../src/index.js';
import { manualClock, silent } from './support.js';

function setup() {
  const clock = manualClock();
  const store = createMemoryInboxStore({ clock });
  const inbox = createInbox({ store, clock, random: () => 0.5, logger: silent, pollIntervalMs: 3_600_000, retry: { initialDelayMs: 1_000, jitter: 0, maxAttempts: 10, maxAgeMs: 60_000 } });
  return { clock, store, inbox };
}

describe('inbox maxAgeMs counts from receipt, on the receiver clock', () => {
  it('retries a failing handler of a message the sender created long ago (or on a clock far behind)', async () => {
    const { clock, store, inbox } = setup();
    inbox.on('t', () => {
      throw new Error('not yet');
    });
    const old = createMessage({ type: 't', payload: 1 }, { source: 's', now: new Date(clock.now() - 3_600_000) });
    await inbox.receive(old);
    await inbox.idle();
    expect(await store.get(old)).toMatchObject({ status: 'received', attempts: 1, lastError: 'not yet' });
    clock.advance(59_000);
    expect(await inbox.processDue()).toBe(1);
    expect(await store.get(old)).toMatchObject({ status: 'received', attempts: 2 });
  });

  it('gives up once the message has been in this inbox longer than maxAgeMs (also when claimed by a worker)', async () => {
    const { clock, store, inbox } = setup();
    inbox.on('t', () => {
      throw new Error('still failing');
    });
    const fresh = createMessage({ type: 't', payload: 1 }, { source: 's', now: new Date(clock.now() + 3_600_000) }); // a sender clock ahead
    await inbox.receive(fresh);
    await inbox.idle();
    clock.advance(60_000);
    expect(await inbox.processDue()).toBe(1);
    const row = await store.get(fresh);
    expect(row).toMatchObject({ status: 'dead', attempts: 2 });
    expect(row!.lastError).toContain('maxAgeMs');
  });
});
