export { createTelemetry, type ObservedServices, type Telemetry, type TelemetryOptions } from './create-telemetry.js';
