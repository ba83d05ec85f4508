import { MessageboxError } from '../errors.js';
import type { Instrumentation } from '../instrumentation.js';
import type { Message } from '../message.js';
import { encodeWebhookBatchItem } from '../http/batch-wire-format.js';
import { utf8Length } from '../payload-json.js';
import type { SendOutcome, Transport } from '../ports/transport.js';

/**
 * Batched delivery of one route (`outbox.configure(type, { transport, batch })`):
 * claimed messages of batched routes that share a transport are handed to
 * its `sendBatch` together, at most `maxMessages` and `maxBytes` per call.
 *
 * @example
 * outbox.configure('order.created', { transport: http, batch: { maxMessages: 100, maxBytes: 512 * 1024 } });
 */
export interface RouteBatchOptions {
  /** Most messages per `sendBatch` call. A positive integer; default 100. */
  maxMessages?: number;
  /**
   * Most bytes of messages per call, counted as the UTF-8 length of each
   * message's JSON as one item of a batch body (id, type, timestamp, data,
   * source, headers and key when it has them; `WIRE-FORMAT.md`). Keep it
   * below the receiver's limit (the messagebox inbox endpoint:
   * `batch.maxBytes`, default 4 MiB) with room for the envelope. A message
   * larger than this on its own is sent alone with `send`. Default 1 MiB.
   */
  maxBytes?: number;
}

/** A route's batching after validation. */
export interface ResolvedBatch {
  maxMessages: number;
  maxBytes: number;
}

/** Default `batch.maxMessages` of a route: 100 messages per `sendBatch` call. */
export const DEFAULT_ROUTE_BATCH_MAX_MESSAGES = 100;
/** Default `batch.maxBytes` of a route: 1 MiB of message JSON per `sendBatch` call. */
export const DEFAULT_ROUTE_BATCH_MAX_BYTES = 1024 * 1024;

/**
 * Validates `batch` of `configure(type, …)`: undefined (or false) when the
 * route does not batch; throws `invalid_options` for a bad value or a
 * transport without `sendBatch`.
 */
export function resolveRouteBatch(type: string, transport: Transport, batch: RouteBatchOptions | false | undefined): ResolvedBatch | undefined {
  if (batch === undefined || batch === false) return undefined;
  const where = `configure("${type}")`;
  if (batch === null || typeof batch !== 'object' || Array.isArray(batch)) {
    throw new MessageboxError('invalid_options', `${where}: batch must be an object like { maxMessages: 100, maxBytes: 1048576 }, got ${String(batch)}`);
  }
  if (typeof transport.sendBatch !== 'function') {
    throw new MessageboxError('invalid_options', `${where}: batch needs a transport with sendBatch(); transport "${transport.name}" has none`);
  }
  const maxMessages = batch.maxMessages ?? DEFAULT_ROUTE_BATCH_MAX_MESSAGES;
  if (!Number.isInteger(maxMessages) || maxMessages < 1) {
    throw new MessageboxError('invalid_options', `${where}: batch.maxMessages must be a positive integer, got ${String(maxMessages)}`);
  }
  const maxBytes = batch.maxBytes ?? DEFAULT_ROUTE_BATCH_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new MessageboxError('invalid_options', `${where}: batch.maxBytes must be a positive integer, got ${String(maxBytes)}`);
  }
  return { maxMessages, maxBytes };
}

/** UTF-8 length of the message as one item of a batch body (`encodeWebhookBatchItem`, see `WIRE-FORMAT.md`): what `maxBytes` counts; the HTTP transport writes the same text. */
export function messageSize(message: Message): number {
  return utf8Length(encodeWebhookBatchItem(message));
}

/**
 * Sends `messages` through `transport` in one call and returns one failure
 * per message (`undefined`: delivered). `batched`: one `sendBatch` call,
 * whose rejection or wrong-length answer becomes a failure of every message;
 * otherwise `send` of the one message. With `instrumentation.send`, each
 * message's outcome is wrapped as its own attempt.
 */
export async function sendDispatch(
  transport: Transport,
  messages: readonly Message[],
  attempts: readonly number[],
  options: { batched: boolean; signal: AbortSignal; instrumentation: Instrumentation },
): Promise<unknown[]> {
  const { signal, instrumentation } = options;
  if (!options.batched) {
    const [message] = messages as [Message];
    const [attempt] = attempts as [number];
    const send = () => transport.send(message, { signal, attempt });
    try {
      await (instrumentation.send ? instrumentation.send(message, attempt, send) : send());
      return [undefined];
    } catch (error) {
      return [error ?? new Error('transport rejected without a reason')];
    }
  }
  const call = callBatch(transport, messages, attempts, signal);
  if (!instrumentation.send) return call;
  return Promise.all(
    messages.map((message, i) =>
      instrumentation.send!(message, attempts[i]!, async () => {
        const failure = (await call)[i];
        if (failure !== undefined) throw failure;
      }).then(
        () => undefined,
        (error: unknown) => error ?? new Error('transport rejected without a reason'),
      ),
    ),
  );
}

async function callBatch(transport: Transport, messages: readonly Message[], attempts: readonly number[], signal: AbortSignal): Promise<unknown[]> {
  let outcomes: readonly SendOutcome[];
  try {
    outcomes = await transport.sendBatch!(messages, { signal, attempts });
  } catch (error) {
    return messages.map(() => error ?? new Error(`transport "${transport.name}": sendBatch rejected without a reason`));
  }
  if (!Array.isArray(outcomes) || outcomes.length !== messages.length) {
    const error = new MessageboxError(
      'transport_failed',
      `transport "${transport.name}": sendBatch answered ${Array.isArray(outcomes) ? outcomes.length : String(outcomes)} outcomes for ${messages.length} messages`,
    );
    return messages.map(() => error);
  }
  return outcomes.map((outcome) =>
    outcome && (outcome as { delivered?: unknown }).delivered === true
      ? undefined
      : ((outcome as { error?: unknown } | undefined)?.error ?? new Error(`transport "${transport.name}": sendBatch gave no error for an undelivered message`)),
  );
}
