import { runHttpTransportSuite } from '@messagebox/testkit';
import { createHttpTransport } from '../src/index.js';

runHttpTransportSuite({ name: 'transport-http', create: (options) => createHttpTransport(options) });
