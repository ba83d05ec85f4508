import { BROKER_UNROUTABLE_TYPE, runBrokerTransportSuite } from '@messagebox/testkit';
import { createNatsTransport, decodeNatsMessage } from '../src/index.js';
import { createTestStream, probeNats, startNatsProxy } from './support/nats.js';

const reachable = await probeNats();

if (reachable) {
  runBrokerTransportSuite({
    name: 'transport-nats on JetStream',
    async setup() {
      const stream = await createTestStream();
      const proxy = await startNatsProxy();
      let lastSeq = 0;
      return {
        transport: (options = {}) =>
          createNatsTransport({
            servers: proxy.url,
            // No stream captures `<prefix>_nowhere.>`: the unroutable type.
            subject: (m) => (m.type === BROKER_UNROUTABLE_TYPE ? `${stream.prefix}_nowhere.${m.type}` : `${stream.prefix}.${m.type}`),
            connectOptions: { reconnectTimeWait: 100 },
            ...options,
          }),
        async take() {
          const taken = [];
          const last = (await stream.jsm.streams.info(stream.name)).state.last_seq;
          for (; lastSeq < last; lastSeq++) {
            const stored = await stream.jsm.streams.getMessage(stream.name, { seq: lastSeq + 1 });
            if (stored) taken.push(decodeNatsMessage({ headers: stored.header, data: stored.data, subject: stored.subject }));
          }
          return taken;
        },
        holdReplies: () => proxy.hold(),
        releaseReplies: () => proxy.release(),
        // The NATS server has no command to close one client's connection (without a system account): the proxy cuts it.
        closeConnections: async () => proxy.drop(),
        async teardown() {
          try {
            await proxy.close();
          } finally {
            await stream.drop();
          }
        },
      };
    },
  });
}
