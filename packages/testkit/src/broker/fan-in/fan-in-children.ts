import { createInbox, createMemoryOutboxStore, createOutbox, silentLogger, type InboxStore, type Message, type ReceiveResult, type Transport } from '@messagebox/core';

/** The message type of the fan-in scenario. */
export const FAN_IN_TYPE = 'order.placed';

/** A setting the fan-in parent passed in this child's environment. */
export function fanInEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`[messagebox] fan-in child: ${name} is not set`);
  return value;
}

/**
 * The body of a fan-in sender process: `MB_COUNT` messages of
 * {@link FAN_IN_TYPE} from source `MB_SOURCE` through an outbox (in-memory
 * store) and `transport`, resent until none is pending; then says `done`
 * (IPC) and exits.
 *
 * @example
 * await runFanInSender(createAmqpTransport({ url: fanInEnv('MB_AMQP_URL'), exchange: fanInEnv('MB_EXCHANGE') }));
 */
export async function runFanInSender(transport: Transport): Promise<void> {
  const count = Number(fanInEnv('MB_COUNT'));
  const store = createMemoryOutboxStore();
  const outbox = createOutbox({ store, source: fanInEnv('MB_SOURCE'), logger: silentLogger, retry: { initialDelayMs: 50, maxDelayMs: 500, maxAttempts: 1_000 } });
  outbox.configure(FAN_IN_TYPE, { transport });
  for (let n = 0; n < count; n += 100) {
    await outbox.transaction(async (tx) => {
      for (let i = n; i < Math.min(count, n + 100); i++) await outbox.add(tx, { type: FAN_IN_TYPE, payload: { n: i } });
    });
  }
  await outbox.idle();
  while ((await store.stats()).pending > 0) {
    await outbox.resendUnsentMessages();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await outbox.close();
  process.send!('done', () => process.exit(0));
}

/** What a fan-in consumer process wires: its inbox store, how a handler run is recorded, and the broker consumer. */
export interface FanInConsumerOptions<Tx> {
  store: InboxStore<Tx>;
  /** Records one handler run inside the handler's transaction: a row (source, id, worker) in the `handled` table. */
  record(tx: Tx, message: Message, worker: string): Promise<void>;
  /** The broker consumer feeding `inbox`. */
  consumer(inbox: { receive(message: Message): Promise<ReceiveResult> }): { start(): Promise<void>; stop(): Promise<unknown> };
  /** Closes the database after a graceful stop. */
  close(): Promise<void>;
}

/**
 * The body of a fan-in consumer process (worker name `MB_WORKER`): an inbox
 * whose handler records each run, fed by the broker consumer. Says `ready`
 * (IPC) once consuming; on the IPC message `stop` stops the consumer, then
 * the inbox, closes and exits 0.
 */
export async function runFanInConsumer<Tx>(options: FanInConsumerOptions<Tx>): Promise<void> {
  const worker = fanInEnv('MB_WORKER');
  const inbox = createInbox({ store: options.store, logger: silentLogger, leaseMs: 5_000, pollIntervalMs: 200 }).on(FAN_IN_TYPE, (message, { tx }) => options.record(tx, message, worker));
  const consumer = options.consumer(inbox);
  await inbox.start();
  await consumer.start();
  process.on('message', async (text) => {
    if (text !== 'stop') return;
    await consumer.stop();
    await inbox.stop();
    await options.close();
    process.exit(0);
  });
  process.send!('ready');
}
