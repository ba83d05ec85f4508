import { createMemoryOutboxStore, createOutbox, silentLogger, type Message, type SendBatchContext, type SendOutcome, type Transport } from '@messagebox/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { createTestStream, NATS_URL, probeNats, waitFor } from './support/nats.js';

const reachable = await probeNats();

describe.runIf(reachable)('transport-nats: outbox over JetStream', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keyed messages on a batched route: never two of one key in a batch, each key in creation order across batches, all in the stream', { timeout: 120_000 }, async () => {
    const s = await createTestStream();
    cleanups.push(() => s.drop());
    const transport: Transport = createNatsTransport({ servers: NATS_URL, subject: (m) => `${s.prefix}.${m.type}`, stream: s.name });
    const batches: Message[][] = [];
    const sendBatch = transport.sendBatch!.bind(transport);
    transport.sendBatch = (messages: readonly Message[], context: SendBatchContext): Promise<readonly SendOutcome[]> => {
      batches.push([...messages]);
      return sendBatch(messages, context);
    };
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'bank', logger: silentLogger, pollIntervalMs: 20 });
    outbox.configure('account.changed', { transport, batch: { maxMessages: 50 } });
    cleanups.push(() => outbox.close());
    await outbox.start();
    const added = await outbox.transaction((tx) => outbox.addMany(tx, Array.from({ length: 60 }, (_, n) => ({ type: 'account.changed', payload: { n }, key: `acct-${n % 4}` }))));
    await waitFor(async () => (await store.stats()).sent === added.length, 'every message acked by the stream');
    for (const batch of batches) expect(new Set(batch.map((m) => m.key)).size).toBe(batch.length);
    const sentInOrder = batches.flat();
    for (const key of ['acct-0', 'acct-1', 'acct-2', 'acct-3']) {
      expect(sentInOrder.filter((m) => m.key === key).map((m) => m.id)).toEqual(added.filter((m) => m.key === key).map((m) => m.id));
    }
    expect(await s.count()).toBe(added.length);
  });

  it('a route with `batch` hands claimed batches to sendBatch (core port types): every message is in the stream exactly once', { timeout: 120_000 }, async () => {
    const s = await createTestStream();
    cleanups.push(() => s.drop());
    const transport: Transport = createNatsTransport({ servers: NATS_URL, subject: (m) => `${s.prefix}.${m.type}`, stream: s.name });
    const batchSizes: number[] = [];
    let singleSends = 0;
    const sendBatch = transport.sendBatch!.bind(transport);
    const send = transport.send.bind(transport);
    transport.sendBatch = (messages: readonly Message[], context: SendBatchContext): Promise<readonly SendOutcome[]> => {
      batchSizes.push(messages.length);
      return sendBatch(messages, context);
    };
    transport.send = (message, context) => {
      singleSends++;
      return send(message, context);
    };
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'shop', logger: silentLogger, retry: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } });
    outbox.configure('order.placed', { transport, batch: { maxMessages: 50 } });
    cleanups.push(() => outbox.close());

    const total = 300;
    const ids: string[] = [];
    await outbox.transaction(async (tx) => {
      for (let n = 0; n < total; n++) ids.push((await outbox.add(tx, { type: 'order.placed', payload: { n } })).id);
    });
    await waitFor(async () => {
      await outbox.resendUnsentMessages();
      return (await store.stats()).sent === total;
    }, 'every message acked by the stream');
    expect(await store.stats()).toMatchObject({ sent: total, pending: 0, dead: 0 });
    expect(singleSends).toBe(0);
    expect(batchSizes.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(50);

    expect(await s.count()).toBe(total);
    const stored = await Promise.all(Array.from({ length: total }, async (_, i) => (await s.jsm.streams.getMessage(s.name, { seq: i + 1 }))!.header.get('Messagebox-Id')));
    expect(stored.toSorted()).toEqual(ids.toSorted());
  });
});
