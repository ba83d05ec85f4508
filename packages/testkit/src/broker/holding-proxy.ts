import net from 'node:net';

/**
 * A loopback TCP proxy in front of a real broker whose broker-to-client
 * direction can be held: while held, what the broker sends (confirms,
 * PubAcks) waits in the proxy until `release()`. `drop()` cuts every
 * connection through it and discards what was held: the client lost its
 * connection after publishing and before its confirms arrived (the broker
 * keeps running).
 */
export interface HoldingProxy {
  /** `127.0.0.1:<port>` of the proxy. */
  readonly address: { host: string; port: number };
  hold(): void;
  /** Stops holding and passes on everything held, in order. */
  release(): void;
  /** Cuts every connection (held bytes are lost); later connections go through again. */
  drop(): void;
  close(): Promise<void>;
}

export interface HoldingProxyOptions {
  host: string;
  port: number;
  /**
   * Called with the bytes held on one connection after each chunk: true
   * cuts that connection at once, e.g. when the broker's `connection.close`
   * arrives while held (the client must not see the close gracefully).
   */
  cutWhenHeld?: (held: Buffer) => boolean;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  held: Buffer[];
}

/**
 * Starts a {@link HoldingProxy} on a free loopback port.
 *
 * @example
 * const proxy = await startHoldingProxy({ host: '127.0.0.1', port: 4222 });
 * const url = `nats://127.0.0.1:${proxy.address.port}`;
 */
export async function startHoldingProxy(options: HoldingProxyOptions): Promise<HoldingProxy> {
  let holding = false;
  const links = new Set<Link>();
  const cut = (link: Link) => {
    link.held.length = 0;
    link.client.destroy();
    link.upstream.destroy();
    links.delete(link);
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(options.port, options.host);
    const link: Link = { client, upstream, held: [] };
    links.add(link);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!holding) {
        client.write(chunk);
        return;
      }
      link.held.push(chunk);
      if (options.cutWhenHeld?.(Buffer.concat(link.held))) cut(link);
    });
    const end = () => cut(link);
    client.on('close', end).on('error', end);
    upstream.on('end', () => (holding ? cut(link) : client.end())).on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: { host: '127.0.0.1', port },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const link of links) for (const chunk of link.held.splice(0)) link.client.write(chunk);
    },
    drop() {
      for (const link of [...links]) cut(link);
    },
    async close() {
      for (const link of [...links]) cut(link);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
