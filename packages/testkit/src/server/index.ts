export {
  runServerAdapterSuite,
  serverAdapterCases,
  type ServerAdapterCase,
  type ServerAdapterHarness,
  type ServerAdapterSuiteOptions,
} from './server-adapter-suite.js';
export { runBadInputProperty, type BadInputPropertyOptions, type BadInputSummary } from './bad-input-property.js';
export { listenOnLoopback, rawRequest, trickleUntilClosed, type RawResponse, type RunningServer } from './loopback.js';
export { signWithReference, type SignedRequest } from './signed-request.js';
export { runHttpTransportSuite, type HttpTransportHarness, type HttpTransportSuiteOptions } from './http-transport-suite.js';
export { startRecordingServer, unusedPort, type ReceivedRequest, type RecordingServer } from './recording-server.js';
export { runSchemaValidationSuite, type SchemaValidationSuiteOptions } from './schema-validation-suite.js';
export { honoOverHttp, runFlowControlSuite, type FlowControlHarness, type HonoHttpParts } from './flow-control-suite.js';
