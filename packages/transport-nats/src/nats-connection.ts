import { MessageboxError } from '@messagebox/core';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

/** How a transport or consumer reaches NATS: servers to connect to, or a connection of yours. */
export interface NatsConnectionOptions {
  /** Server URLs, e.g. `"nats://127.0.0.1:4222"` or a list (the client fails over and reconnects). */
  servers?: string | string[];
  /** More options for the client's `connect()` (credentials, TLS, `name`…). Default reconnects forever (`maxReconnectAttempts: -1`). */
  connectOptions?: Omit<NodeConnectionOptions, 'servers'>;
  /** A connection of yours instead of `servers`; it is not closed by `close()`/`stop()`. */
  connection?: NatsConnection;
}

/** A lazily opened connection: `get()` connects once; a failed connect is tried again on the next `get()`. */
export interface ConnectionHandle {
  get(): Promise<NatsConnection>;
  /** Drains (and so closes) a connection this handle opened; leaves one that was passed in. */
  close(): Promise<void>;
}

export function connectionHandle(options: NatsConnectionOptions, factory: string): ConnectionHandle {
  if (options.connection) {
    const connection = options.connection;
    return { get: async () => connection, close: async () => {} };
  }
  const servers = options.servers;
  const valid = typeof servers === 'string' ? servers.length > 0 : Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === 'string' && s);
  if (!valid) throw new MessageboxError('invalid_options', `${factory} needs \`servers\` (a URL or a list of URLs) or a \`connection\``);
  let pending: Promise<NatsConnection> | undefined;
  let closed = false;
  return {
    get() {
      if (closed) return Promise.reject(new MessageboxError('invalid_options', `${factory}: closed`));
      pending ??= connect({ maxReconnectAttempts: -1, ...options.connectOptions, servers: servers! }).catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
      return pending;
    },
    async close() {
      closed = true;
      const connection = await pending?.catch(() => undefined);
      if (connection && !connection.isClosed()) await connection.drain().catch(() => connection.close());
    },
  };
}
