export { createTelemetry, type ObservedServices, type Telemetry, type TelemetryOptions } from './create-telemetry.js';
export { formatTraceContext, parseTraceContext } from './trace-context.js';
