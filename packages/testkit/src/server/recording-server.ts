import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as the recording server received it. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server that records requests and answers as told; see {@link startRecordingServer}. */
export interface RecordingServer {
  url: string;
  requests: ReceivedRequest[];
  /** Sockets accepted so far. */
  connections: number;
  /** Most requests being answered at the same time. */
  maxInFlight: number;
  respond: (handler: (req: ReceivedRequest, res: ServerResponse) => unknown) => void;
  close: () => Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 (port 0) that records every request, counts
 * sockets and concurrent requests, and answers 200 unless told otherwise.
 *
 * @example
 * const server = await startRecordingServer();
 * server.respond((req, res) => res.writeHead(503, { 'retry-after': '5' }).end());
 */
export async function startRecordingServer(): Promise<RecordingServer> {
  let handler: (req: ReceivedRequest, res: ServerResponse) => unknown = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"created"}');
  };
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const state = { connections: 0, maxInFlight: 0 };
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    requests.push(received);
    await handler(received, res);
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/inbox`,
    requests,
    get connections() {
      return state.connections;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    respond(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  } as RecordingServer;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
