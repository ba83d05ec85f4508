import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP receiver on loopback that records who delivered which message id. */
export interface CountingReceiver {
  readonly url: string;
  /** Message id → the `x-worker` header of every delivery of it, in arrival order. */
  readonly deliveries: Map<string, string[]>;
  /** Deliveries so far, duplicates included. */
  total(): number;
  close(): Promise<void>;
}

/**
 * Starts a plain `node:http` server that answers 200 to every POST and
 * counts deliveries per `webhook-id` header, with the sender's `x-worker`.
 *
 * @example
 * const receiver = await startCountingReceiver();
 * outbox.configure('x', { transport: createHttpTransport({ url: receiver.url }) });
 */
export async function startCountingReceiver(): Promise<CountingReceiver> {
  const deliveries = new Map<string, string[]>();
  let total = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      if (!id) {
        res.writeHead(400).end('missing webhook-id');
        return;
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
    total: () => total,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
