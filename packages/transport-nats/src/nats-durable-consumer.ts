import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';

/** The durable pull consumer an inbox consumer reads: explicit acks, from the stream's start. */
export interface DurableConsumerSettings {
  durable: string;
  maxAckPending: number;
  ackWaitMs: number;
  filterSubject?: string | undefined;
}

export const DEFAULT_NATS_MAX_ACK_PENDING = 1_000;
export const DEFAULT_NATS_ACK_WAIT_MS = 30_000;

/**
 * Creates the durable consumer on `stream` when absent; when present, brings
 * its `max_ack_pending` and `ack_wait` to `settings` (its filter is left as
 * it was created).
 */
export async function ensureDurableConsumer(jsm: JetStreamManager, stream: string, settings: DurableConsumerSettings): Promise<void> {
  const ackWait = settings.ackWaitMs * 1_000_000;
  try {
    const info = await jsm.consumers.info(stream, settings.durable);
    if (info.config.max_ack_pending !== settings.maxAckPending || info.config.ack_wait !== ackWait) {
      await jsm.consumers.update(stream, settings.durable, { max_ack_pending: settings.maxAckPending, ack_wait: ackWait });
    }
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
    await jsm.consumers.add(stream, {
      durable_name: settings.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: settings.maxAckPending,
      ack_wait: ackWait,
      ...(settings.filterSubject ? { filter_subject: settings.filterSubject } : {}),
    });
  }
}
