import { createMemoryOutboxStore, createMessage, createOutbox, silentLogger, TransportError, type Message, type SendOutcome, type Transport } from '@messagebox/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { skipProblems } from '../storage/run-storage-conformance.js';

/** The type every case publishes: the harness's destination must take it. */
export const BROKER_ROUTED_TYPE = 'order.placed';
/** A type the harness routes nowhere (no queue bound, no stream captures its subject). */
export const BROKER_UNROUTABLE_TYPE = 'unroutable.nowhere';

/** One case's destination on the real broker, and transports to it. */
export interface BrokerUnderTest {
  /**
   * A new transport to this case's destination that connects through a
   * proxy `holdReplies` and `closeConnections` act on. `timeoutMs` is its
   * deadline for one confirm (default the transport's own).
   */
  transport(options?: { timeoutMs?: number }): Transport;
  /** Removes and returns, decoded, the messages that reached the destination since the last call, in the broker's order. */
  take(): Promise<Message[]>;
  /** Holds what the broker sends to the transports made here (confirms, PubAcks) until `releaseReplies`. */
  holdReplies(): void;
  releaseReplies(): void;
  /**
   * Closes the connections of the transports made here from the broker's
   * side (RabbitMQ: `rabbitmqctl close_connection`) or, where the broker has
   * no such command, cuts them on the network. Replies held until then are
   * lost. Never stops or restarts the broker.
   */
  closeConnections(): Promise<void>;
  /** Deletes what `setup` declared and closes what it opened. */
  teardown(): Promise<void>;
}

/**
 * What a broker transport gives {@link runBrokerTransportSuite}.
 *
 * @example
 * runBrokerTransportSuite({ name: 'transport-nats', setup: async () => natsDestination() });
 */
export interface BrokerTransportHarness {
  name: string;
  /** Before every case: a destination of its own that takes {@link BROKER_ROUTED_TYPE} and routes {@link BROKER_UNROUTABLE_TYPE} nowhere. */
  setup(): Promise<BrokerUnderTest>;
  /** Cases to skip, by name, each with a reason; a name that is no case fails the suite. */
  skip?: Record<string, string>;
}

interface Case {
  name: string;
  run(broker: BrokerUnderTest, received: () => Promise<Message[]>): Promise<void>;
}

const message = (type = BROKER_ROUTED_TYPE, headers: Record<string, string> = {}): Message =>
  createMessage({ type, source: 'shop', payload: { total: 42, note: 'é', lines: [{ sku: 'a-1', qty: 2 }] }, headers }, { now: new Date('2030-01-02T03:04:05.678Z') });

/** The `TransportError` `sending` rejects with; fails the case when it resolves or rejects with anything else. */
async function failure(sending: Promise<unknown>): Promise<TransportError> {
  try {
    await sending;
  } catch (error) {
    expect(error).toBeInstanceOf(TransportError);
    return error as TransportError;
  }
  throw new Error('[messagebox] expected the send to reject; it resolved');
}

/**
 * With the broker's replies held, waits until the broker has every one of
 * `messages`, then closes the connections and releases: the confirms of
 * those messages are lost with the connection.
 */
async function closeBeforeConfirms(broker: BrokerUnderTest, received: () => Promise<Message[]>, messages: readonly Message[]): Promise<void> {
  await waitUntil(async () => {
    const got = new Set(ids(await received()));
    return messages.every((m) => got.has(m.id));
  }, `the broker to have the ${messages.length} unconfirmed messages`);
  await broker.closeConnections();
  broker.releaseReplies();
}

function failed(outcome: SendOutcome | undefined): TransportError {
  expect(outcome?.delivered).toBe(false);
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

/** Waits for `condition`, polling, up to `timeoutMs` (generous: CI machines are loaded). */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`[messagebox] timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const ids = (messages: readonly Message[]) => messages.map((m) => m.id);

const cases: Case[] = [
  {
    name: 'send resolves only on the broker’s confirmation: with it held, the broker has the message and send is still pending',
    async run(broker, received) {
      const t = broker.transport();
      await t.send(message(), { attempt: 1 });
      broker.holdReplies();
      let settled = false;
      const m = message();
      const sending = t.send(m, { attempt: 1 }).finally(() => (settled = true));
      await waitUntil(async () => ids(await received()).includes(m.id), 'the broker to have the message');
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toBe(false);
      broker.releaseReplies();
      await expect(sending).resolves.toBeUndefined();
    },
  },
  {
    name: 'no confirmation within timeoutMs rejects, retryable and timedOut',
    async run(broker) {
      const t = broker.transport({ timeoutMs: 400 });
      await t.send(message(), { attempt: 1 });
      broker.holdReplies();
      const error = await failure(t.send(message(), { attempt: 1 }));
      expect(error).toMatchObject({ retryable: true, timedOut: true });
    },
  },
  {
    name: 'a connection closed from the broker side before the confirms: each pending send rejects, retryable, and the next send goes through',
    async run(broker, received) {
      const t = broker.transport({ timeoutMs: 5_000 });
      await t.send(message(), { attempt: 1 });
      broker.holdReplies();
      const pending = Array.from({ length: 5 }, () => message());
      const sends = pending.map((m) => failure(t.send(m, { attempt: 1 })));
      await closeBeforeConfirms(broker, received, pending);
      for (const error of await Promise.all(sends)) expect(error.retryable).toBe(true);
      const after = message();
      await waitUntil(() => t.send(after, { attempt: 1 }).then(() => true, () => false), 'a send after the close to be confirmed');
      expect(ids(await received())).toContain(after.id);
    },
  },
  {
    name: 'a connection closed mid-send loses nothing: an outbox retries until every message is confirmed, and each one reached the broker',
    async run(broker, received) {
      const t = broker.transport({ timeoutMs: 3_000 });
      const store = createMemoryOutboxStore();
      // No circuit breaker: with the replies held every attempt times out, and an open breaker would stop the retries this case is about.
      const outbox = createOutbox({ store, source: 'shop', logger: silentLogger, pollIntervalMs: 100, retry: { initialDelayMs: 50, maxDelayMs: 500, maxAttempts: 1_000 }, flowControl: { breaker: false } });
      outbox.configure(BROKER_ROUTED_TYPE, { transport: t });
      let failures = 0;
      outbox.events.on('failed', () => void failures++);
      const added: string[] = [];
      const add = (n: number) =>
        outbox.transaction(async (tx) => {
          for (let i = 0; i < n; i++) added.push((await outbox.add(tx, { type: BROKER_ROUTED_TYPE, payload: { i } })).id);
        });
      try {
        await outbox.start();
        await add(1);
        await waitUntil(async () => (await store.stats()).sent === 1, 'the first message confirmed');
        broker.holdReplies();
        await add(50);
        await waitUntil(async () => new Set(ids(await received())).size === 51, 'the broker to have the 50 unconfirmed messages');
        await broker.closeConnections();
        broker.releaseReplies();
        await add(50);
        await waitUntil(async () => (await store.stats()).pending === 0, 'every message confirmed', 90_000);
        expect(await store.stats()).toMatchObject({ sent: 101, dead: 0 });
        expect(failures).toBeGreaterThanOrEqual(50);
        const reached = new Set(ids(await received()));
        for (const id of added) expect(reached.has(id)).toBe(true);
      } finally {
        await outbox.close();
      }
    },
  },
  {
    name: 'an unroutable message is a failure, retryable, and is never confirmed',
    async run(broker, received) {
      const t = broker.transport();
      const error = await failure(t.send(message(BROKER_UNROUTABLE_TYPE), { attempt: 1 }));
      expect(error.retryable).toBe(true);
      const routed = message();
      await t.send(routed, { attempt: 1 });
      expect(ids(await received())).toEqual([routed.id]);
    },
  },
  {
    name: 'sendBatch settles each message on its own: one outcome per message, in order, only the unroutable one failed',
    async run(broker, received) {
      const t = broker.transport();
      expect(typeof t.sendBatch).toBe('function');
      const batch = [message(), message(BROKER_UNROUTABLE_TYPE), message(), message()];
      const outcomes = await t.sendBatch!(batch, { attempts: batch.map(() => 1) });
      expect(outcomes.map((o) => o.delivered)).toEqual([true, false, true, true]);
      expect(failed(outcomes[1]).retryable).toBe(true);
      expect(ids(await received())).toEqual([batch[0]!.id, batch[2]!.id, batch[3]!.id]);
    },
  },
  {
    name: 'sendBatch with the connection closed before the confirms: every outcome failed, retryable, none delivered',
    async run(broker, received) {
      const t = broker.transport({ timeoutMs: 5_000 });
      await t.send(message(), { attempt: 1 });
      broker.holdReplies();
      const batch = Array.from({ length: 10 }, () => message());
      const sending = t.sendBatch!(batch, { attempts: batch.map(() => 1) });
      await closeBeforeConfirms(broker, received, batch);
      const outcomes = await sending;
      expect(outcomes).toHaveLength(10);
      for (const outcome of outcomes) expect(failed(outcome).retryable).toBe(true);
    },
  },
  {
    name: 'id, type, source, creation time, payload and headers travel: the broker’s copy decodes back equal',
    async run(broker, received) {
      const m = message(BROKER_ROUTED_TYPE, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-tenant': 't-1' });
      await broker.transport().send(m, { attempt: 1 });
      expect(await received()).toEqual([m]);
    },
  },
  {
    name: 'a closed transport refuses sends without attempting them',
    async run(broker, received) {
      const t = broker.transport();
      await t.send(message(), { attempt: 1 });
      await t.close?.();
      expect(await failure(t.send(message(), { attempt: 1 }))).toMatchObject({ notAttempted: true });
      expect(await received()).toHaveLength(1);
    },
  },
];

/** Names of every case of {@link runBrokerTransportSuite}, for `skip`. */
export const brokerTransportCaseNames: readonly string[] = cases.map((c) => c.name);

/**
 * The conformance suite of broker transports (RabbitMQ, NATS JetStream, …),
 * against the real broker: `send` resolves only on the broker's
 * confirmation; no confirmation in time, an unroutable message and a
 * connection closed before the confirms are retryable failures; an outbox
 * loses nothing when the connection is closed mid-send; `sendBatch` settles
 * each message on its own; id, type, source, time, payload and headers
 * travel.
 *
 * @example
 * runBrokerTransportSuite({ name: 'transport-amqp', setup: () => amqpDestination() });
 */
export function runBrokerTransportSuite(harness: BrokerTransportHarness): void {
  const skip = harness.skip ?? {};
  describe(`broker transport conformance: ${harness.name}`, () => {
    let broker: BrokerUnderTest;
    let received: () => Promise<Message[]>;
    const transports: Transport[] = [];
    beforeEach(async () => {
      const under = await harness.setup();
      const all: Message[] = [];
      received = async () => {
        all.push(...(await under.take()));
        return all;
      };
      broker = {
        ...under,
        transport(options) {
          const t = under.transport(options);
          transports.push(t);
          return t;
        },
      };
    });
    afterEach(async () => {
      try {
        broker.releaseReplies();
        await Promise.all(transports.splice(0).map((t) => t.close?.()));
      } finally {
        await broker.teardown();
      }
    });

    it('skip list names only existing cases, each with a reason', () => {
      const problems = skipProblems(skip, brokerTransportCaseNames);
      if (problems.length) throw new Error(`[messagebox] invalid skip list: ${problems.join('; ')}`);
    });
    for (const c of cases) {
      const reason = skip[c.name];
      if (reason !== undefined) it.skip(`${c.name} (skipped: ${reason})`, () => {});
      else it(c.name, { timeout: 120_000 }, () => c.run(broker, received));
    }
  });
}
