import { TransportError, type Clock, type InboxReceiver, type Message, type Transport } from '../src/index.js';

/** A transport that records what it delivered and fails while told to. */
export function recordingTransport() {
  const delivered: Message[] = [];
  const attempts: Array<{ id: string; attempt: number }> = [];
  let failures: Array<Error | undefined> = [];
  let failAll: Error | undefined;
  const transport: Transport & { delivered: Message[]; attempts: typeof attempts; failNext(...errors: Error[]): void; failAlways(error?: Error): void } = {
    name: 'recording',
    delivered,
    attempts,
    async send(message, context) {
      attempts.push({ id: message.id, attempt: context.attempt });
      const error = failures.shift() ?? failAll;
      if (error) throw error;
      delivered.push(message);
    },
    failNext(...errors) {
      failures = errors;
    },
    failAlways(error) {
      failAll = error;
    },
  };
  return transport;
}

export const down = () => new TransportError('receiver down', { retryable: true, status: 503 });

export function manualClock(start = Date.parse('2030-01-01T00:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

export const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** An inbox endpoint's receiver that takes `order.created` and stores every message it is given (`stored`). */
export function storingReceiver(overrides: Partial<InboxReceiver> = {}) {
  const stored: Message[] = [];
  const inbox: InboxReceiver & { stored: Message[] } = {
    stored,
    accepts: (type) => type === 'order.created',
    async receive(m) {
      stored.push(m);
      return { status: 'created' };
    },
    ...overrides,
  };
  return inbox;
}
