import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import type { OtelApi } from './load-api.js';

/** Message headers as a propagation carrier: propagators write lower-case keys; reads ignore case. */
const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => void (carrier[key] = value),
};
const getter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key] ?? Object.entries(carrier).find(([name]) => name.toLowerCase() === key)?.[1],
};

/**
 * The headers `propagator` writes for `context` (W3C `traceparent`/`tracestate`,
 * B3, `baggage`, … whatever propagators the application configured).
 */
export function injectHeaders(propagator: TextMapPropagator, context: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  propagator.inject(context, headers, setter);
  return headers;
}

/**
 * `base` with what `propagator` reads from a message's headers: the remote
 * parent span when the headers carry one, baggage, and so on.
 */
export function extractHeaders(propagator: TextMapPropagator, base: Context, headers: Readonly<Record<string, string>>): Context {
  return propagator.extract(base, headers, getter);
}

/** The remote span context a message's headers carry, valid, or undefined. */
export function remoteSpanContext(api: OtelApi, propagator: TextMapPropagator, headers: Readonly<Record<string, string>>) {
  const spanContext = api.trace.getSpanContext(extractHeaders(propagator, api.ROOT_CONTEXT, headers));
  return spanContext && api.isSpanContextValid(spanContext) ? spanContext : undefined;
}
