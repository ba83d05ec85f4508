import { describe, expect, it, vi } from 'vitest';
import { createMemoryOutboxStore, createOutbox, isInboxRequestError, isMessageboxError, isTransportError, MessageboxError, TransportError, InboxRequestError } from '../src/index.js';
import { silent } from './support.js';

/**
 * A second copy of core's error module, as an app gets when an adapter
 * resolved another version of @messagebox/core: a separate module instance
 * with its own classes.
 */
const otherCopy = async () => {
  vi.resetModules();
  const errors = await import('../src/errors.js');
  const requests = await import('../src/http/inbox-request-error.js');
  return { ...errors, ...requests };
};

describe('messagebox errors are recognised by their brand, across copies of core', () => {
  it('an error class from another copy fails instanceof but passes the guards', async () => {
    const other = await otherCopy();
    expect(other.TransportError).not.toBe(TransportError);
    const foreign = new other.TransportError('[messagebox] answered 400', { retryable: false, status: 400 });
    expect(foreign instanceof TransportError).toBe(false);
    expect(isTransportError(foreign)).toBe(true);
    expect(isMessageboxError(foreign)).toBe(true);
    expect(isMessageboxError(foreign, 'transport_failed')).toBe(true);
    expect(isMessageboxError(foreign, 'lease_lost', 'store_failed')).toBe(false);
    expect(isInboxRequestError(new other.InboxRequestError('malformed_json', 400, 'bad'))).toBe(true);
  });

  it('the guards refuse look-alikes and plain errors', () => {
    expect(isTransportError(new MessageboxError('transport_failed', 'x'))).toBe(false);
    expect(isTransportError({ name: 'TransportError', code: 'transport_failed', retryable: false })).toBe(false);
    expect(isMessageboxError(Object.assign(new Error('x'), { code: 'no_transport' }))).toBe(false);
    expect(isMessageboxError(null)).toBe(false);
    expect(isMessageboxError('transport_failed')).toBe(false);
    expect(isInboxRequestError(new TransportError('x'))).toBe(false);
    expect(isInboxRequestError(new InboxRequestError('malformed_json', 400, 'bad'))).toBe(true);
  });

  it('a permanent failure from a transport built on another copy of core goes dead at once', async () => {
    const other = await otherCopy();
    const store = createMemoryOutboxStore();
    let attempts = 0;
    const outbox = createOutbox({ store, source: 'vault', logger: silent, pollIntervalMs: 3_600_000, retry: { maxAttempts: 5 } }).configure('payment.created', {
      transport: {
        name: 'foreign',
        async send() {
          attempts++;
          throw new other.TransportError('[messagebox] answered 400: bad payload', { retryable: false, status: 400 });
        },
      },
    });
    const message = await outbox.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: { amount: 5 } }));
    await outbox.idle();
    expect(attempts).toBe(1);
    expect(await store.get(message.id)).toMatchObject({ status: 'dead', attempts: 1 });
    expect((await store.get(message.id))?.lastError).toMatch(/answered 400: bad payload/);
  });
});
