import type { Unsubscribe } from '@messagebox/core';
import pg from 'pg';

/** How the listener connects: `true` for the libpq environment (`PGHOST`, …), a connection string, or a `pg` client config. */
export type ListenOptions = true | string | pg.ClientConfig;

const MIN_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * `LISTEN`s on `channel` over a dedicated connection (not from the pool) and
 * calls `onWake` for every notification. When the connection drops it
 * reconnects with backoff, then calls `onWake` once, since notifications sent
 * meanwhile were lost. Resolves once listening; rejects if the first
 * connection fails.
 *
 * @example
 * const stop = await listenForWakeUps('postgres://localhost/app', 'messagebox_outbox', () => worker.wake());
 */
export async function listenForWakeUps(options: ListenOptions, channel: string, onWake: () => void): Promise<Unsubscribe> {
  const config: pg.ClientConfig = options === true ? {} : typeof options === 'string' ? { connectionString: options } : options;
  let closed = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let retryMs = MIN_RETRY_MS;

  const connect = async () => {
    const c = new pg.Client({ keepAlive: true, application_name: 'messagebox-listener', ...config });
    c.on('notification', (n) => {
      if (n.channel === channel) onWake();
    });
    c.on('error', () => undefined);
    c.on('end', () => {
      if (client !== c) return;
      client = undefined;
      reconnectLater();
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    } catch (error) {
      await c.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    retryMs = MIN_RETRY_MS;
  };

  const reconnectLater = () => {
    if (closed) return;
    timer = setTimeout(() => {
      connect().then(
        () => !closed && onWake(),
        () => {
          retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
          reconnectLater();
        },
      );
    }, retryMs);
    timer.unref();
  };

  await connect();
  return async () => {
    closed = true;
    clearTimeout(timer);
    const c = client;
    client = undefined;
    await c?.end().catch(() => undefined);
  };
}
