import { createMemoryOutboxStore, createMessage, createOutbox, silentLogger, TransportError, type Message } from '@messagebox/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createNatsTransport, decodeNatsMessage, natsMsgId, type NatsTransport } from '../src/index.js';
import { createTestStream, NATS_URL, probeNats, startNatsProxy, waitFor, type TestStream } from './support/nats.js';

const reachable = await probeNats();

function message(type: string, payload: Message['payload'] = { n: 1 }, extra: { id?: string; source?: string; headers?: Record<string, string> } = {}): Message {
  return createMessage({ type, payload, source: extra.source ?? 'vault', ...(extra.id ? { id: extra.id } : {}), headers: extra.headers ?? {} }, { now: new Date('2030-01-02T03:04:05.678Z') });
}

describe.runIf(reachable)('transport-nats: createNatsTransport against the real server', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function stream(config: Parameters<typeof createTestStream>[0] = {}): Promise<TestStream> {
    const s = await createTestStream(config);
    cleanups.push(() => s.drop());
    return s;
  }
  function transport(options: Partial<Parameters<typeof createNatsTransport>[0]> = {}): NatsTransport {
    const t = createNatsTransport({ servers: NATS_URL, ...options });
    cleanups.push(() => t.close());
    return t;
  }

  it('resolves once the stream has the message: headers and JSON body carry it, and it decodes back equal', async () => {
    const s = await stream();
    const t = transport({ subject: (m) => `${s.prefix}.${m.type}` });
    const sent = message('payment.created', { amount: 100, note: 'é' }, { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-tenant': 't1' } });
    await t.send(sent, { attempt: 1 });
    expect(await s.count()).toBe(1);
    const stored = await s.jsm.streams.getMessage(s.name, { seq: 1 });
    expect(stored!.subject).toBe(`${s.prefix}.payment.created`);
    expect(stored!.header.get('Nats-Msg-Id')).toBe(`vault:${sent.id}`);
    expect(stored!.header.get('traceparent')).toBe(sent.headers['traceparent']);
    expect(stored!.header.get('Messagebox-Type')).toBe('payment.created');
    expect(JSON.parse(stored!.string())).toEqual({ amount: 100, note: 'é' });
    expect(decodeNatsMessage({ headers: stored!.header, data: stored!.data, subject: stored!.subject })).toEqual(sent);
  });

  it('rejects (retryable) when no stream captures the subject: nothing is confirmed without a PubAck', async () => {
    const s = await stream();
    const t = transport({ subject: (m) => `${s.prefix}_nostream.${m.type}` });
    const error = await t.send(message('payment.created'), { attempt: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ retryable: true, code: 'transport_failed' });
    expect((error as Error).message).toMatch(/no JetStream stream captures this subject/);
  });

  it('rejects (retryable) when the PubAck would come from another stream than `stream`', async () => {
    const s = await stream();
    const t = transport({ subject: (m) => `${s.prefix}.${m.type}`, stream: `${s.name}_other` });
    await expect(t.send(message('payment.created'), { attempt: 1 })).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/refused by JetStream/) });
    expect(await s.count()).toBe(0);
  });

  it('rejects without retry a subject that is not literal and a body over the stream’s max_msg_size', async () => {
    const s = await stream({ max_msg_size: 512 });
    const t = transport({ subject: (m) => `${s.prefix}.${m.type}` });
    await expect(t.send(message('order.*'), { attempt: 1 })).rejects.toMatchObject({ retryable: false });
    await expect(t.send(message('big.one', 'x'.repeat(2_000)), { attempt: 1 })).rejects.toMatchObject({ retryable: false });
    expect(await s.count()).toBe(0);
  });

  it('after close() a send is refused without being attempted', async () => {
    const s = await stream();
    const t = transport({ subject: (m) => `${s.prefix}.${m.type}` });
    await t.send(message('payment.created'), { attempt: 1 });
    await t.close();
    await expect(t.send(message('payment.created'), { attempt: 1 })).rejects.toMatchObject({ retryable: true, notAttempted: true });
    expect(await s.count()).toBe(1);
  });

  it('a server that cannot be reached rejects with notAttempted (nothing was sent)', async () => {
    const t = transport({ servers: 'nats://127.0.0.1:1', connectOptions: { timeout: 2_000 } });
    await expect(t.send(message('payment.created'), { attempt: 1 })).rejects.toMatchObject({ retryable: true, notAttempted: true, message: expect.stringMatching(/could not connect/) });
  });

  it('Nats-Msg-Id: a resend of the same (source, id) is stored once; the same id from another source is another message', async () => {
    const s = await stream();
    const t = transport({ subject: (m) => `${s.prefix}.${m.type}` });
    const first = message('payment.created', 1, { id: 'order-42' });
    await t.send(first, { attempt: 1 });
    const [again, otherSource] = await t.sendBatch([first, message('payment.created', 1, { id: 'order-42', source: 'ledger' })], { attempts: [2, 1] });
    expect(again).toMatchObject({ delivered: true, ack: { duplicate: true, seq: 1 } });
    expect(otherSource).toMatchObject({ delivered: true, ack: { duplicate: false, seq: 2 } });
    expect(await s.count()).toBe(2);
    expect(natsMsgId({ source: 'a:b', id: 'c' })).not.toBe(natsMsgId({ source: 'a', id: 'b:c' }));
  });

  it('sendBatch publishes concurrently with one outcome per message, in order; one failure fails only its own', async () => {
    const s = await stream();
    const t = transport({ subject: (m) => (m.type === 'lost.type' ? `${s.prefix}_nostream.x` : `${s.prefix}.${m.type}`) });
    const batch = Array.from({ length: 40 }, (_, i) => message(i === 17 ? 'lost.type' : 'payment.created', i));
    const outcomes = await t.sendBatch(batch, { attempts: batch.map(() => 1) });
    expect(outcomes).toHaveLength(40);
    expect(outcomes.filter((o) => o.delivered)).toHaveLength(39);
    expect(outcomes[17]).toMatchObject({ delivered: false, error: { retryable: true } });
    expect(await s.count()).toBe(39);
  });

  it('an aborted signal (the worker shutting down) publishes nothing: send rejects and every batch outcome fails, not attempted', async () => {
    const s = await stream();
    const t = transport({ subject: (m) => `${s.prefix}.${m.type}` });
    const signal = AbortSignal.abort();
    const error = await t.send(message('payment.created'), { attempt: 1, signal }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ retryable: true, notAttempted: true });
    const outcomes = await t.sendBatch([message('payment.created', 1), message('payment.created', 2)], { attempts: [1, 1], signal });
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) expect(o).toMatchObject({ delivered: false, error: { retryable: true, notAttempted: true } });
    await t.send(message('payment.created', 3), { attempt: 1 });
    expect(await s.count()).toBe(1);
  });

  it('a connection dropped mid-run and PubAcks lost on the way back lose nothing: the outbox retries, JetStream drops the resends', { timeout: 120_000 }, async () => {
    const s = await stream();
    const proxy = await startNatsProxy();
    cleanups.push(() => proxy.close());
    const t = transport({ servers: proxy.url, subject: (m) => `${s.prefix}.${m.type}`, timeoutMs: 1_500, connectOptions: { reconnectTimeWait: 100 } });
    const store = createMemoryOutboxStore();
    const outbox = createOutbox({ store, source: 'vault', logger: silentLogger, pollIntervalMs: 100, retry: { initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 1_000 } }).configure('payment.created', { transport: t });
    cleanups.push(() => outbox.stop());
    let failures = 0;
    outbox.events.on('failed', () => void failures++);
    await t.send(message('payment.created', 'warm-up'), { attempt: 1 });

    proxy.hold();
    await outbox.transaction(async (tx) => {
      for (let i = 0; i < 20; i++) await outbox.add(tx, { type: 'payment.created', payload: { phase: 'acks-lost', i } });
    });
    await waitFor(async () => (await s.count()) === 21 && failures >= 20, 'the 20 messages stored by JetStream and their publishes timed out');
    proxy.drop();
    proxy.release();
    await outbox.start();

    await outbox.transaction(async (tx) => {
      for (let i = 0; i < 200; i++) await outbox.add(tx, { type: 'payment.created', payload: { phase: 'drops', i } });
    });
    for (let drops = 0; drops < 3; drops++) {
      const before = await s.count();
      await waitFor(async () => (await s.count()) > before || (await store.stats()).pending === 0, 'progress before the next drop');
      proxy.drop();
    }
    await waitFor(async () => (await store.stats()).pending === 0, 'every message sent', 90_000);
    expect(await store.stats()).toMatchObject({ pending: 0, dead: 0 });
    expect(await s.count()).toBe(221);
    expect(failures).toBeGreaterThanOrEqual(20);
  });
});
