import { runHttpTransportSuite } from '@messagebox/testkit';
import { createFetchTransport } from '../src/fetch.js';

runHttpTransportSuite({
  name: 'transport-http (fetch engine)',
  create: (options) => createFetchTransport(options),
  socketsOwnedByRuntime: "fetch pools the runtime's sockets; the transport bounds requests in flight",
});
