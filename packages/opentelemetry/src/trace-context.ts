import type { Context, SpanContext } from '@opentelemetry/api';
import type { OtelApi } from './load-api.js';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** W3C `traceparent` (and `tracestate`) of a span context. */
export function formatTraceContext(spanContext: SpanContext): Record<string, string> {
  const headers: Record<string, string> = {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`,
  };
  const state = spanContext.traceState?.serialize();
  if (state) headers['tracestate'] = state;
  return headers;
}

/** The remote span context in a message's `traceparent`/`tracestate` headers, or undefined when absent or malformed. */
export function parseTraceContext(api: OtelApi, headers: Readonly<Record<string, string>>): SpanContext | undefined {
  const match = TRACEPARENT.exec(headers['traceparent']?.trim() ?? '');
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match;
  if (version === 'ff' || (version === '00' && headers['traceparent']!.trim().length !== 55)) return undefined;
  const spanContext: SpanContext = { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16), isRemote: true };
  if (!api.isSpanContextValid(spanContext)) return undefined;
  const state = headers['tracestate'];
  if (state) spanContext.traceState = api.createTraceState(state);
  return spanContext;
}

/** A context whose parent is the span context carried by `headers`, or `fallback` when they carry none. */
export function contextFromHeaders(api: OtelApi, headers: Readonly<Record<string, string>>, fallback: Context): Context {
  const remote = parseTraceContext(api, headers);
  return remote ? api.trace.setSpanContext(api.ROOT_CONTEXT, remote) : fallback;
}
