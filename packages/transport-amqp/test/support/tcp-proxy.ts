import { startHoldingProxy } from '@messagebox/testkit';

/**
 * testkit's holding proxy in front of the real broker, as an AMQP URL. When
 * the broker closes a connection while replies are held (a
 * `connection.close` frame arrives, e.g. from `rabbitmqctl
 * close_connection`), the held bytes are dropped and both sides are cut: the
 * client lost its connection after publishing and before its confirms
 * arrived.
 */
export interface TcpProxy {
  readonly url: string;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, credentials = 'guest:guest'): Promise<TcpProxy> {
  const proxy = await startHoldingProxy({ ...target, cutWhenHeld: containsConnectionClose });
  return {
    url: `amqp://${credentials}@127.0.0.1:${proxy.address.port}`,
    hold: () => proxy.hold(),
    release: () => proxy.release(),
    close: () => proxy.close(),
  };
}

/** Whether `bytes` (a run of whole or partial AMQP frames) holds a `connection.close` method frame (class 10, method 50). */
export function containsConnectionClose(bytes: Buffer): boolean {
  let offset = 0;
  while (offset + 7 <= bytes.length) {
    const type = bytes.readUInt8(offset);
    const size = bytes.readUInt32BE(offset + 3);
    if (type === 1 && offset + 11 <= bytes.length && bytes.readUInt16BE(offset + 7) === 10 && bytes.readUInt16BE(offset + 9) === 50) return true;
    offset += 7 + size + 1;
  }
  return false;
}
