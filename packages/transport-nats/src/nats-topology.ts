import { describeError, isMessageboxError, MessageboxError } from '@messagebox/core';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connectionHandle, type NatsConnectionOptions } from './nats-connection.js';
import { DEFAULT_NATS_ACK_WAIT_MS, DEFAULT_NATS_MAX_ACK_PENDING, ensureDurableConsumer } from './nats-durable-consumer.js';
import { subjectsOverlap } from './nats-subjects.js';

/**
 * Options of {@link createNatsTopology}.
 *
 * @example
 * createNatsTopology({ servers: 'nats://127.0.0.1:4222', stream: 'ORDERS', durable: 'shipping', deadLetterSubject: 'orders_dead.shipping' })
 */
export interface NatsTopologyOptions extends NatsConnectionOptions {
  /** The stream the transport publishes into (`createNatsTransport({ stream })`). */
  stream: string;
  /** Subjects the stream captures. Default `['<stream>.>']`. */
  subjects?: readonly string[];
  /** The durable pull consumer the inbox consumer reads (`createNatsInboxConsumer({ durable })`), with explicit acks. */
  durable: string;
  /** Only subjects matching this, when the durable consumer is created. Default: the whole stream. */
  filterSubject?: string;
  /** The durable consumer's `max_ack_pending`; default 1 000 (as the inbox consumer's). */
  maxAckPending?: number;
  /** The durable consumer's `ack_wait`; default 30 000 ms (as the inbox consumer's). */
  ackWaitMs?: number;
  /**
   * Where the inbox consumer publishes messages that can never be stored
   * (its `deadLetterSubject`): a second stream, `deadLetterStream`, captures
   * it. Must not overlap the stream's `subjects` (refused with
   * `invalid_options` before anything is created). Default: none.
   */
  deadLetterSubject?: string;
  /** The stream capturing `deadLetterSubject`. Default `<stream>_DEAD`. */
  deadLetterStream?: string;
}

/**
 * The names of one JetStream topology for messagebox, and how to declare and
 * delete it. Pass `stream` to the transport, `stream`, `durable` and
 * `deadLetterSubject` to the inbox consumer.
 */
export interface NatsTopology {
  readonly stream: string;
  readonly subjects: readonly string[];
  readonly durable: string;
  readonly deadLetterSubject: string | undefined;
  readonly deadLetterStream: string | undefined;
  /**
   * Creates the stream (or, when it exists, adds missing subjects to it),
   * the durable consumer (or brings its `max_ack_pending`/`ack_wait` to
   * these), and the dead-letter stream. Idempotent. Rejects with
   * `transport_failed` when the server cannot be reached or refuses.
   */
  declare(): Promise<void>;
  /** Deletes the stream (its consumers and messages with it) and the dead-letter stream; what does not exist is skipped. */
  delete(): Promise<void>;
  /** Closes a connection the topology opened (not one passed as `connection`); `declare()` and `delete()` then reject with `invalid_options`. */
  close(): Promise<void>;
}

/**
 * Declares what messagebox needs on NATS JetStream, once, in one place: a
 * stream for the senders, a durable pull consumer with explicit acks for
 * the receivers, and optionally a stream for dead letters.
 *
 * @example
 * const topology = createNatsTopology({ servers, stream: 'ORDERS', durable: 'shipping' });
 * await topology.declare();
 * const transport = createNatsTransport({ servers, stream: topology.stream, subject: (m) => `ORDERS.${m.type}` });
 * const consumer = createNatsInboxConsumer({ servers, stream: topology.stream, durable: topology.durable, inbox });
 */
export function createNatsTopology(options: NatsTopologyOptions): NatsTopology {
  if (!options || typeof options !== 'object') throw new MessageboxError('invalid_options', 'createNatsTopology needs options with `stream` and `durable`');
  for (const field of ['stream', 'durable'] as const) {
    if (typeof options[field] !== 'string' || options[field] === '') throw new MessageboxError('invalid_options', `createNatsTopology: \`${field}\` must be a non-empty string`);
  }
  const { stream, durable } = options;
  const subjects = options.subjects ?? [`${stream}.>`];
  if (!Array.isArray(subjects) || subjects.length === 0 || !subjects.every((s) => typeof s === 'string' && s)) {
    throw new MessageboxError('invalid_options', 'createNatsTopology: `subjects` must be a non-empty list of subjects');
  }
  const deadLetterSubject = options.deadLetterSubject;
  if (deadLetterSubject !== undefined && (typeof deadLetterSubject !== 'string' || deadLetterSubject === '')) {
    throw new MessageboxError('invalid_options', 'createNatsTopology: `deadLetterSubject` must be a non-empty subject');
  }
  // JetStream refuses a second stream on subjects the first captures, after the first and its consumer were made: check before anything is.
  const captured = deadLetterSubject === undefined ? undefined : subjects.find((s) => subjectsOverlap(s, deadLetterSubject));
  if (captured !== undefined) {
    throw new MessageboxError(
      'invalid_options',
      `createNatsTopology: \`deadLetterSubject\` "${deadLetterSubject}" overlaps the subject "${captured}" of stream "${stream}": dead letters would be captured by the stream they came from; pick a subject outside its subjects (e.g. "${stream}_dead.${durable}")`,
    );
  }
  const deadLetterStream = deadLetterSubject === undefined ? undefined : (options.deadLetterStream ?? `${stream}_DEAD`);
  const maxAckPending = options.maxAckPending ?? DEFAULT_NATS_MAX_ACK_PENDING;
  const ackWaitMs = options.ackWaitMs ?? DEFAULT_NATS_ACK_WAIT_MS;
  for (const [name, value] of [['maxAckPending', maxAckPending], ['ackWaitMs', ackWaitMs]] as const) {
    if (!Number.isInteger(value) || value <= 0) throw new MessageboxError('invalid_options', `createNatsTopology: ${name} must be a positive integer, got ${String(value)}`);
  }
  const connection = connectionHandle(options, 'createNatsTopology');

  async function withManager(what: string, fn: (jsm: JetStreamManager) => Promise<void>): Promise<void> {
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(await connection.get());
    } catch (error) {
      if (isMessageboxError(error, 'invalid_options')) throw error; // used after close()
      throw new MessageboxError('transport_failed', `cannot reach NATS JetStream to ${what} stream "${stream}": ${describeError(error)}`, { cause: error });
    }
    try {
      await fn(jsm);
    } catch (error) {
      throw new MessageboxError('transport_failed', `NATS JetStream refused to ${what} stream "${stream}": ${describeError(error)}`, { cause: error });
    }
  }

  return {
    stream,
    subjects,
    durable,
    deadLetterSubject,
    deadLetterStream,

    declare: () =>
      withManager('declare', async (jsm) => {
        await ensureStream(jsm, stream, subjects);
        await ensureDurableConsumer(jsm, stream, { durable, maxAckPending, ackWaitMs, filterSubject: options.filterSubject });
        if (deadLetterStream !== undefined) await ensureStream(jsm, deadLetterStream, [deadLetterSubject!]);
      }),

    delete: () =>
      withManager('delete', async (jsm) => {
        for (const name of [stream, deadLetterStream]) if (name !== undefined) await jsm.streams.delete(name).catch(ignoreNotFound);
      }),

    close: () => connection.close(),
  };
}

/** Creates the stream, or adds the missing `subjects` to it when it exists. */
async function ensureStream(jsm: JetStreamManager, name: string, subjects: readonly string[]): Promise<void> {
  try {
    const info = await jsm.streams.info(name);
    const missing = subjects.filter((s) => !info.config.subjects?.includes(s));
    if (missing.length) await jsm.streams.update(name, { subjects: [...(info.config.subjects ?? []), ...missing] });
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.StreamNotFound)) throw error;
    await jsm.streams.add({ name, subjects: [...subjects] });
  }
}

const isNotFound = (error: unknown, code: number) => error instanceof JetStreamApiError && error.code === code;

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error, JetStreamApiCodes.StreamNotFound)) throw error;
}
