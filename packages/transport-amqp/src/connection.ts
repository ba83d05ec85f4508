import { connect, type ChannelModel, type Options } from 'amqplib';

/** Where and how to connect: an `amqp://` / `amqps://` URL or amqplib's connect options. */
export type AmqpUrl = string | Options.Connect;

/**
 * Opens one AMQP connection named `connectionName` (shown by the management
 * UI and `rabbitmqctl list_connections client_properties`), failing after
 * `timeoutMs` when the broker does not answer.
 */
export async function openAmqpConnection(url: AmqpUrl, connectionName: string, timeoutMs: number): Promise<ChannelModel> {
  return connect(url, { clientProperties: { connection_name: connectionName }, timeout: timeoutMs });
}

/** Describes a URL for errors and logs without its password. */
export function describeAmqpUrl(url: AmqpUrl): string {
  if (typeof url !== 'string') return `${url.protocol ?? 'amqp'}://${url.hostname ?? 'localhost'}:${url.port ?? 5672}${url.vhost ? `/${url.vhost}` : ''}`;
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.username = '';
    return parsed.toString();
  } catch {
    return 'an invalid AMQP URL';
  }
}

/**
 * Closes a connection politely (connection.close, waiting for close-ok), and
 * destroys its socket when the broker does not answer within `timeoutMs`.
 * Never rejects.
 */
export async function closeModel(model: ChannelModel, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const polite = model.close().then(
    () => true,
    () => true,
  );
  const answered = await Promise.race([polite, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
  clearTimeout(timer);
  if (!answered) (model.connection as { stream?: { destroy?: () => void } }).stream?.destroy?.();
}
