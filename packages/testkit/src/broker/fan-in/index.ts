export { FAN_IN_TYPE, fanInEnv, runFanInConsumer, runFanInSender, type FanInConsumerOptions } from './fan-in-children.js';
export { runFanInScenario, type FanInScenarioOptions } from './fan-in-scenario.js';
