import { createInbox, createMemoryInboxStore, createMessage, type Message } from '@messagebox/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createNatsInboxConsumer, createNatsTopology, createNatsTransport, type NatsTopology } from '../src/index.js';
import { subjectsOverlap } from '../src/nats-subjects.js';
import { NATS_URL, probeNats, uniqueName, waitFor } from './support/nats.js';

const reachable = await probeNats();
const message = (type: string): Message => createMessage({ type, source: 'shop', payload: 1 }, { now: new Date() });

describe('createNatsTopology: options', () => {
  it('refuses missing names, empty subjects and bad numbers with invalid_options', () => {
    const base = { servers: NATS_URL, stream: 'S', durable: 'd' };
    for (const options of [{ ...base, stream: '' }, { servers: NATS_URL, stream: 'S' }, { ...base, subjects: [] }, { ...base, maxAckPending: 0 }, { ...base, deadLetterSubject: '' }, { stream: 'S', durable: 'd' }]) {
      expect(() => createNatsTopology(options as never)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    }
  });

  it('matches subjects as NATS does: `*` one token, `>` one or more', () => {
    const overlapping = [['ORDERS.>', 'ORDERS.dead'], ['ORDERS.>', 'ORDERS.dead.x'], ['ORDERS.*', 'ORDERS.dead'], ['ORDERS.*.x', 'ORDERS.a.*'], ['>', 'dead'], ['ORDERS.dead', 'ORDERS.dead'], ['*.dead', 'ORDERS.>']];
    const apart = [['ORDERS.>', 'ORDERS'], ['ORDERS.>', 'ORDERS_dead.x'], ['ORDERS.*', 'ORDERS.dead.x'], ['ORDERS.a', 'ORDERS.b'], ['ORDERS.*.x', 'ORDERS.a.y'], ['*', 'a.b']];
    for (const [a, b] of overlapping) expect([a, b, subjectsOverlap(a!, b!), subjectsOverlap(b!, a!)]).toEqual([a, b, true, true]);
    for (const [a, b] of apart) expect([a, b, subjectsOverlap(a!, b!), subjectsOverlap(b!, a!)]).toEqual([a, b, false, false]);
  });

  it('captures <stream>.> by default; the dead-letter stream is named after the stream', () => {
    expect(createNatsTopology({ servers: NATS_URL, stream: 'ORDERS', durable: 'shipping', deadLetterSubject: 'dead.shipping' })).toMatchObject({ subjects: ['ORDERS.>'], deadLetterStream: 'ORDERS_DEAD' });
  });

  it('an unreachable server rejects declare() with transport_failed', async () => {
    const topology = createNatsTopology({ servers: 'nats://127.0.0.1:1', connectOptions: { maxReconnectAttempts: 0, timeout: 2_000 }, stream: 'S', durable: 'd' });
    await expect(topology.declare()).rejects.toMatchObject({ code: 'transport_failed', message: expect.stringContaining('cannot reach NATS JetStream') });
    await topology.close();
  });
});

describe.runIf(reachable)('createNatsTopology against NATS JetStream', () => {
  const declared: NatsTopology[] = [];
  afterEach(async () => {
    for (const t of declared.splice(0)) {
      await t.delete();
      await t.close();
    }
  });

  it('declares the stream, the durable consumer (explicit acks) and the dead-letter stream, twice without harm; messages flow; delete removes them', async () => {
    const stream = uniqueName().toUpperCase();
    const t = createNatsTopology({ servers: NATS_URL, stream, durable: 'shipping', maxAckPending: 50, deadLetterSubject: `${stream}_dead.shipping` });
    declared.push(t);
    await t.declare();
    await t.declare();
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(stream)).config.subjects).toEqual([`${stream}.>`]);
      expect((await jsm.consumers.info(stream, 'shipping')).config).toMatchObject({ durable_name: 'shipping', ack_policy: 'explicit', max_ack_pending: 50 });
      expect((await jsm.streams.info(`${stream}_DEAD`)).config.subjects).toEqual([`${stream}_dead.shipping`]);

      const transport = createNatsTransport({ servers: NATS_URL, stream: t.stream, subject: (m) => `${stream}.${m.type}` });
      const inbox = createInbox({ store: createMemoryInboxStore() }).on('order.placed', () => {});
      const good = message('order.placed');
      await transport.send(good, { attempt: 1 });
      await transport.send(message('order.unknown'), { attempt: 1 });
      await transport.close();
      const consumer = createNatsInboxConsumer({ servers: NATS_URL, stream: t.stream, durable: t.durable, maxAckPending: 50, deadLetterSubject: t.deadLetterSubject!, inbox });
      await consumer.start();
      await waitFor(async () => (await inbox.store.get(good)) !== null && (await jsm.streams.info(`${stream}_DEAD`)).state.messages === 1, 'the good message stored and the unknown type dead-lettered');
      await consumer.stop();

      await t.delete();
      declared.splice(0);
      await t.close();
      await expect(jsm.streams.info(stream)).rejects.toThrow(/stream not found/i);
      await expect(jsm.streams.info(`${stream}_DEAD`)).rejects.toThrow(/stream not found/i);
      await expect(t.delete()).rejects.toMatchObject({ code: 'invalid_options' }); // closed: a topology is not used after close()
    } finally {
      await nc.close();
    }
  });

  it('a deadLetterSubject the stream captures is refused with invalid_options naming both subjects, and no stream is created', async () => {
    const stream = uniqueName().toUpperCase();
    for (const [subjects, deadLetterSubject, captured] of [
      [undefined, `${stream}.dead`, `${stream}.>`],
      [[`${stream}.orders.*`, `${stream}.audit.>`], `${stream}.audit.dead.shipping`, `${stream}.audit.>`],
      [[`${stream}.*.placed`], `${stream}.dead.*`, `${stream}.*.placed`],
    ] as const) {
      let refused: unknown;
      try {
        const t = createNatsTopology({ servers: NATS_URL, stream, durable: 'shipping', deadLetterSubject, ...(subjects ? { subjects } : {}) });
        declared.push(t);
        await t.declare();
      } catch (error) {
        refused = error;
      }
      expect(refused).toMatchObject({ code: 'invalid_options', message: expect.stringContaining(`"${deadLetterSubject}" overlaps the subject "${captured}"`) });
    }
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      await expect(jsm.streams.info(stream)).rejects.toThrow(/stream not found/i);
      await expect(jsm.streams.info(`${stream}_DEAD`)).rejects.toThrow(/stream not found/i);
    } finally {
      await nc.close();
    }
  });

  it('adds missing subjects to a stream that exists, keeping its own', async () => {
    const stream = uniqueName().toUpperCase();
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`${stream}.legacy.>`] });
      const t = createNatsTopology({ connection: nc, stream, durable: 'shipping', subjects: [`${stream}.orders.>`] });
      declared.push(t);
      await t.declare();
      expect((await jsm.streams.info(stream)).config.subjects).toEqual([`${stream}.legacy.>`, `${stream}.orders.>`]);
      await t.delete();
      declared.splice(0);
    } finally {
      await nc.close();
    }
  });
});
