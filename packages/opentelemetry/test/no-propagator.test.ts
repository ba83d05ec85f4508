import { expect, it } from 'vitest';
import { createTelemetry } from '../src/index.js';
import { tracing, useAsyncContext } from './support.js';

useAsyncContext({ propagators: false }); // no SDK registered a propagator in this file

it('with no propagator registered nothing is propagated, as with any OpenTelemetry instrumentation', () => {
  const { tracer, provider } = tracing();
  const telemetry = createTelemetry({ tracerProvider: provider });
  const headers = tracer.startActiveSpan('op', (span) => (span.end(), telemetry.headers!()));
  expect(headers).toEqual({});
});
