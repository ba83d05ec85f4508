import { BROKER_ROUTED_TYPE, runBrokerTransportSuite } from '@messagebox/testkit';
import { createAmqpTransport, decodeAmqpMessage } from '../src/index.js';
import { closeConnectionsNamed, openAdmin, requireBroker, uniqueName } from './support/broker.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const reachable = await requireBroker();

if (reachable) {
  runBrokerTransportSuite({
    name: 'transport-amqp on RabbitMQ',
    async setup() {
      const admin = await openAdmin();
      const exchange = await admin.exchange(uniqueName('conformance'));
      const queue = await admin.queue(uniqueName('conformance-q'), { exchange, pattern: BROKER_ROUTED_TYPE });
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5672 });
      const connectionNames: string[] = [];
      return {
        transport(options = {}) {
          const connectionName = uniqueName('conformance-conn');
          connectionNames.push(connectionName);
          return createAmqpTransport({ url: proxy.url, exchange, connectionName, ...options });
        },
        take: async () => (await admin.drain(queue)).map((delivery) => decodeAmqpMessage(delivery)),
        holdReplies: () => proxy.hold(),
        releaseReplies: () => proxy.release(),
        async closeConnections() {
          for (const name of connectionNames) await closeConnectionsNamed(name);
        },
        async teardown() {
          try {
            await proxy.close();
          } finally {
            await admin.cleanup();
          }
        },
      };
    },
  });
}
