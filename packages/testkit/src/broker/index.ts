export {
  BROKER_ROUTED_TYPE,
  BROKER_UNROUTABLE_TYPE,
  brokerTransportCaseNames,
  runBrokerTransportSuite,
  waitUntil,
  type BrokerTransportHarness,
  type BrokerUnderTest,
} from './broker-transport-suite.js';
export { startHoldingProxy, type HoldingProxy, type HoldingProxyOptions } from './holding-proxy.js';
export * from './fan-in/index.js';
