import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP receiver on loopback that records who delivered which message id. */
export interface CountingReceiver {
  readonly url: string;
  /** Message id → the `x-worker` header of every delivery of it, in arrival order. */
  readonly deliveries: Map<string, string[]>;
  /**
   * Ordering key (the `messagebox-key` header) → the message ids answered
   * 200, in the order they were answered: the order a handler saw them.
   */
  readonly byKey: Map<string, string[]>;
  /** Requests answered 500 on purpose (see `failureRate`). */
  failed(): number;
  /** Deliveries so far, duplicates included. */
  total(): number;
  close(): Promise<void>;
}

/** Options of {@link startCountingReceiver}. */
export interface CountingReceiverOptions {
  /** Share (0..1) of requests answered 500 at random, before anything is recorded. Default 0. */
  failureRate?: number;
  /** Random source for `failureRate`. Default `Math.random`. */
  random?: () => number;
}

/**
 * Starts a plain `node:http` server that answers 200 to every POST (or 500
 * to a random `failureRate` of them) and counts deliveries per `webhook-id`
 * header, with the sender's `x-worker`, and per `messagebox-key`.
 *
 * @example
 * const receiver = await startCountingReceiver({ failureRate: 0.15 });
 * outbox.configure('x', { transport: createHttpTransport({ url: receiver.url }) });
 */
export async function startCountingReceiver(options: CountingReceiverOptions = {}): Promise<CountingReceiver> {
  const deliveries = new Map<string, string[]>();
  const byKey = new Map<string, string[]>();
  const failureRate = options.failureRate ?? 0;
  const random = options.random ?? Math.random;
  let total = 0;
  let failed = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      if (!id) {
        res.writeHead(400).end('missing webhook-id');
        return;
      }
      if (failureRate > 0 && random() < failureRate) {
        failed++;
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"chaos","message":"failing at random"}}');
        return;
      }
      const key = req.headers['messagebox-key'];
      if (typeof key === 'string') {
        const seen = byKey.get(key);
        if (seen) seen.push(id);
        else byKey.set(key, [id]);
      }
      const worker = String(req.headers['x-worker'] ?? 'unknown');
      const list = deliveries.get(id);
      if (list) list.push(worker);
      else deliveries.set(id, [worker]);
      total++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/inbox`,
    deliveries,
    byKey,
    failed: () => failed,
    total: () => total,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
