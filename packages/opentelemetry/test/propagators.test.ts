import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createOutbox, silentLogger, type Message, type Transport } from '@messagebox/core';
import { propagation, ROOT_CONTEXT, trace, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { describe, expect, it } from 'vitest';
import { createTelemetry } from '../src/index.js';
import { tracing, useAsyncContext } from './support.js';

// This file registers the global propagator itself: B3 (multi-header) and baggage, as an application
// that set OTEL_PROPAGATORS=b3multi,baggage would.
useAsyncContext({ propagators: false });
propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }), new W3CBaggagePropagator()] }));

/** Sends the outbox's messages straight into `inbox.receive`, as the wire would carry their headers. */
function toInbox(receive: (message: Message) => Promise<unknown>): Transport {
  return { name: 'loopback', send: async (message) => void (await receive(structuredClone(message))) };
}

/** Creates a message inside a `checkout` span with baggage `tenant=acme`, delivers it, and reports what the handler saw. */
async function roundTrip(options: { propagator?: TextMapPropagator } = {}) {
  const sender = tracing();
  const receiver = tracing();
  const seen: { headers?: Record<string, string>; traceId?: string; tenant?: string | undefined } = {};
  const inbox = createInbox({ store: createMemoryInboxStore(), logger: silentLogger, retention: false, instrumentation: createTelemetry({ tracerProvider: receiver.provider, ...options }) });
  let done!: () => void;
  const handled = new Promise<void>((resolve) => (done = resolve));
  inbox.on('order.created', async (message) => {
    seen.headers = message.headers;
    seen.traceId = trace.getActiveSpan()?.spanContext().traceId;
    seen.tenant = propagation.getActiveBaggage()?.getEntry('tenant')?.value;
    done();
  });
  const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 'shop', logger: silentLogger, retention: false, sendAfterCommit: false, instrumentation: createTelemetry({ tracerProvider: sender.provider, ...options }) }).configure(
    'order.created',
    { transport: toInbox((message) => inbox.receive(message)) },
  );
  const baggage = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ tenant: { value: 'acme' } }));
  const checkout = await sender.tracer.startActiveSpan('checkout', {}, baggage, async (span) => {
    await outbox.transaction((tx) => outbox.add(tx, { type: 'order.created', payload: { order: 7 } }));
    span.end();
    return span.spanContext();
  });
  // Delivered outside the checkout span: only what the headers carry can reach the handler (same process).
  expect(trace.getActiveSpan()).toBeUndefined();
  await inbox.start();
  await outbox.resendUnsentMessages();
  await handled;
  await inbox.stop();
  const [processSpan] = receiver.exporter.getFinishedSpans().filter((span) => span.name === 'process order.created');
  return { checkout, seen, processSpan };
}

describe('propagation through the configured propagators', () => {
  it('the global propagator (B3 multi-header + baggage): headers are B3, the receiver continues the trace and sees the baggage', async () => {
    const { checkout, seen, processSpan } = await roundTrip();
    expect(seen.headers).toMatchObject({ 'x-b3-traceid': checkout.traceId, 'x-b3-spanid': checkout.spanId, 'x-b3-sampled': '1', baggage: 'tenant=acme' });
    expect(seen.headers!['traceparent']).toBeUndefined();
    expect(seen.traceId).toBe(checkout.traceId);
    expect(processSpan!.parentSpanContext).toMatchObject({ traceId: checkout.traceId, spanId: checkout.spanId, isRemote: true });
    expect(seen.tenant).toBe('acme');
  });

  it('the propagator option wins over the global one: B3 single header', async () => {
    const { checkout, seen, processSpan } = await roundTrip({ propagator: new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }) });
    expect(seen.headers!['b3']).toBe(`${checkout.traceId}-${checkout.spanId}-1`);
    expect(seen.headers!['x-b3-traceid']).toBeUndefined();
    expect(seen.headers!['baggage']).toBeUndefined(); // not in this propagator
    expect(processSpan!.parentSpanContext?.spanId).toBe(checkout.spanId);
    expect(seen.tenant).toBeUndefined();
  });

  it('W3C trace context + baggage through the option', async () => {
    const w3c = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
    const { checkout, seen, processSpan } = await roundTrip({ propagator: w3c });
    expect(seen.headers).toMatchObject({ traceparent: `00-${checkout.traceId}-${checkout.spanId}-01`, baggage: 'tenant=acme' });
    expect(processSpan!.parentSpanContext?.spanId).toBe(checkout.spanId);
    expect(seen.tenant).toBe('acme');
  });

  it('reads headers whatever their case (a sender that wrote X-B3-TraceId)', () => {
    const { exporter, provider } = tracing();
    const telemetry = createTelemetry({ tracerProvider: provider });
    const headers = { 'X-B3-TraceId': '0af7651916cd43dd8448eb211c80319c', 'X-B3-SpanId': 'b7ad6b7169203331', 'X-B3-Sampled': '1' };
    return telemetry.handle!({ id: 'm', source: 's', type: 't', payload: {}, headers, createdAt: new Date() }, 1, async () => undefined).then(() => {
      expect(exporter.getFinishedSpans()[0]!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    });
  });
});
