import net from 'node:net';

/**
 * A loopback TCP proxy in front of the real broker whose broker-to-client
 * direction can be held: while held, what the broker sends (confirms, for
 * one) waits in the proxy until `release()`. When the broker closes a
 * connection while it is held (a `connection.close` frame arrives, e.g. from
 * `rabbitmqctl close_connection`), the held bytes are dropped and both sides
 * are cut: the client lost its connection after publishing and before its
 * confirms arrived.
 */
export interface TcpProxy {
  readonly url: string;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  held: Buffer[];
}

export async function startTcpProxy(target: { host: string; port: number }, credentials = 'guest:guest'): Promise<TcpProxy> {
  let holding = false;
  const links = new Set<Link>();
  const cut = (link: Link) => {
    link.client.destroy();
    link.upstream.destroy();
    links.delete(link);
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const link: Link = { client, upstream, held: [] };
    links.add(link);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!holding) {
        client.write(chunk);
        return;
      }
      link.held.push(chunk);
      if (containsConnectionClose(Buffer.concat(link.held))) cut(link);
    });
    const end = () => cut(link);
    client.on('close', end).on('error', end);
    upstream.on('end', () => (holding ? cut(link) : client.end())).on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `amqp://${credentials}@127.0.0.1:${port}`,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const link of links) {
        for (const chunk of link.held.splice(0)) link.client.write(chunk);
      }
    },
    async close() {
      for (const link of [...links]) cut(link);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Whether `bytes` (a run of whole or partial AMQP frames) holds a `connection.close` method frame (class 10, method 50). */
function containsConnectionClose(bytes: Buffer): boolean {
  let offset = 0;
  while (offset + 7 <= bytes.length) {
    const type = bytes.readUInt8(offset);
    const size = bytes.readUInt32BE(offset + 3);
    if (type === 1 && offset + 11 <= bytes.length && bytes.readUInt16BE(offset + 7) === 10 && bytes.readUInt16BE(offset + 9) === 50) return true;
    offset += 7 + size + 1;
  }
  return false;
}
