import { createRequire } from 'node:module';
import type * as OpenTelemetryApi from '@opentelemetry/api';

export type OtelApi = typeof OpenTelemetryApi;

let cached: OtelApi | null | undefined;

/** `@opentelemetry/api` when it is installed, else undefined (then telemetry is a no-op). */
export function loadOpenTelemetryApi(): OtelApi | undefined {
  if (cached === undefined) {
    try {
      cached = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}
