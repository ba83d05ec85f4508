import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createOutbox, createInboxRequestHandler, silentLogger, TransportError, type Message, type Transport } from '@messagebox/core';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createTelemetry } from '../src/index.js';
import { metering, point, tracing, useAsyncContext } from './support.js';

useAsyncContext();

function failingTransport(): Transport & { fail: Map<string, Error> } {
  const fail = new Map<string, Error>();
  return {
    name: 'test',
    fail,
    async send(message: Message) {
      const error = fail.get(String((message.payload as { key: string }).key));
      if (error) throw error;
    },
  };
}

describe('createTelemetry: trace context', () => {
  it('stores the active traceparent with new messages, and nothing outside a span or when propagate is off', async () => {
    const { tracer, provider } = tracing();
    const telemetry = createTelemetry({ tracerProvider: provider });
    expect(telemetry.headers!()).toEqual({});
    const inside = tracer.startActiveSpan('op', (span) => {
      const headers = telemetry.headers!();
      span.end();
      return { headers, context: span.spanContext() };
    });
    expect(inside.headers).toEqual({ traceparent: `00-${inside.context.traceId}-${inside.context.spanId}-01` });
    const off = createTelemetry({ tracerProvider: provider, propagate: false });
    expect(tracer.startActiveSpan('op', (span) => (span.end(), off.headers!()))).toEqual({});
  });

  it("lets the message's own headers win", async () => {
    const { tracer, provider } = tracing();
    const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 's', logger: silentLogger, retention: false, sendAfterCommit: false, instrumentation: createTelemetry({ tracerProvider: provider }) });
    outbox.configure('t', { transport: failingTransport() });
    const mine = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const message = await tracer.startActiveSpan('op', async (span) => {
      const m = await outbox.transaction((tx) => outbox.add(tx, { type: 't', payload: {}, headers: { traceparent: mine } }));
      span.end();
      return m;
    });
    expect(message.headers['traceparent']).toBe(mine);
  });

  it('a malformed traceparent gives the handler span no remote parent; a valid one (with tracestate) does', async () => {
    const { exporter, provider } = tracing();
    const telemetry = createTelemetry({ tracerProvider: provider });
    const malformed = [
      'garbage',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
    ];
    const handle = (traceparent: string, extra: Record<string, string> = {}) =>
      telemetry.handle!({ id: traceparent, source: 's', type: 't', payload: {}, headers: { traceparent, ...extra }, createdAt: new Date() }, 1, async () => undefined);
    for (const traceparent of malformed) await handle(traceparent);
    await handle('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', { tracestate: 'vendor=x' });
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(malformed.length + 1);
    for (const span of spans.slice(0, malformed.length)) expect(span.parentSpanContext).toBeUndefined();
    const continued = spans.at(-1)!;
    expect(continued.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(continued.parentSpanContext).toMatchObject({ spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    expect(continued.parentSpanContext?.traceState?.get('vendor')).toBe('x');
  });

  it('marks a failed attempt span as an error and rethrows', async () => {
    const { exporter, provider } = tracing();
    const telemetry = createTelemetry({ tracerProvider: provider });
    const message: Message = { id: 'm1', source: 's', type: 't', payload: {}, headers: {}, createdAt: new Date() };
    await expect(telemetry.send!(message, 2, async () => Promise.reject(new Error('receiver down')))).rejects.toThrow('receiver down');
    const [span] = exporter.getFinishedSpans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'receiver down' });
    expect(span!.attributes['messagebox.attempt']).toBe(2);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});

describe('createTelemetry: batch handlers', () => {
  it('wraps a batch handler run in one process span linked to each message creation span', async () => {
    const { exporter, provider, tracer } = tracing();
    const telemetry = createTelemetry({ tracerProvider: provider });
    const store = createMemoryInboxStore();
    const inbox = createInbox({ store, logger: silentLogger, retention: false, instrumentation: telemetry });
    const seen: number[] = [];
    inbox.onBatch('t', (messages) => void seen.push(messages.length), { maxMessages: 10 });
    const creators = ['a', 'b', 'c'].map((name) => tracer.startActiveSpan(name, (span) => (span.end(), span.spanContext())));
    const messages = creators.map((c, i) => ({
      id: `m${i}`,
      source: 's',
      type: 't',
      payload: i,
      headers: { traceparent: `00-${c.traceId}-${c.spanId}-01` },
      createdAt: new Date(),
    }));
    await Promise.all(messages.map((m) => inbox.receive(m)));
    await inbox.idle();
    expect(seen.reduce((a, b) => a + b, 0)).toBe(3);
    const batchSpans = exporter.getFinishedSpans().filter((span) => span.name === 'process t');
    expect(batchSpans.length).toBe(seen.length);
    const links = batchSpans.flatMap((span) => span.links.map((link) => link.context.spanId));
    expect(links.sort()).toEqual(creators.map((c) => c.spanId).sort());
    expect(batchSpans.reduce((n, span) => n + Number(span.attributes['messaging.batch.message_count']), 0)).toBe(3);
  });
});

describe('createTelemetry: metrics', () => {
  it('records backlog, oldest pending age, dead count, attempts by outcome and latency', async () => {
    const meters = metering();
    const telemetry = createTelemetry({ meterProvider: meters.provider });
    const transport = failingTransport();
    transport.fail.set('retry', new TransportError('503', { retryable: true }));
    transport.fail.set('dead', new TransportError('400', { retryable: false }));
    const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 's', logger: silentLogger, retention: false, instrumentation: telemetry }).configure('order.created', { transport });
    const inbox = createInbox({ store: createMemoryInboxStore(), logger: silentLogger, retention: false, instrumentation: telemetry }).on('order.created', async () => {});
    const stop = telemetry.observe({ outbox, inbox });

    await outbox.transaction(async (tx) => {
      for (const key of ['ok-1', 'ok-2', 'retry', 'dead']) await outbox.add(tx, { type: 'order.created', payload: { key } });
    });
    await outbox.idle();
    await inbox.receive({ id: 'in-1', source: 'shop', type: 'order.created', payload: {}, headers: {}, createdAt: new Date(Date.now() - 2_000) });
    await inbox.idle();
    await inbox.store.transaction((tx) => inbox.store.receive(tx, { id: 'in-2', source: 'shop', type: 'order.created', payload: {}, headers: {}, createdAt: new Date() }));

    const metrics = await meters.collect();
    expect(point(metrics.get('messagebox.backlog'), { 'messagebox.side': 'outbox' })?.value).toBe(1);
    expect(point(metrics.get('messagebox.backlog'), { 'messagebox.side': 'inbox' })?.value).toBe(1);
    expect(point(metrics.get('messagebox.dead_messages'), { 'messagebox.side': 'outbox' })?.value).toBe(1);
    expect(point(metrics.get('messagebox.oldest_pending.age'), { 'messagebox.side': 'outbox' })?.value).toBeGreaterThanOrEqual(0);
    const attempts = metrics.get('messagebox.attempts');
    expect(point(attempts, { 'messagebox.side': 'outbox', 'messagebox.outcome': 'sent' })?.value).toBe(2);
    expect(point(attempts, { 'messagebox.side': 'outbox', 'messagebox.outcome': 'retry' })?.value).toBe(1);
    expect(point(attempts, { 'messagebox.side': 'outbox', 'messagebox.outcome': 'dead' })?.value).toBe(1);
    expect(point(attempts, { 'messagebox.side': 'inbox', 'messagebox.outcome': 'handled' })?.value).toBe(1);
    const inboxLatency = point(metrics.get('messagebox.latency'), { 'messagebox.side': 'inbox' })?.value as { count: number; min: number };
    expect(inboxLatency.count).toBe(1);
    expect(inboxLatency.min).toBeGreaterThanOrEqual(2);
    expect((point(metrics.get('messagebox.latency'), { 'messagebox.side': 'outbox' })?.value as { count: number }).count).toBe(2);

    stop();
    await outbox.transaction((tx) => outbox.add(tx, { type: 'order.created', payload: { key: 'ok-3' } }));
    await outbox.idle();
    const after = await meters.collect();
    expect(point(after.get('messagebox.attempts'), { 'messagebox.side': 'outbox', 'messagebox.outcome': 'sent' })?.value).toBe(2);
  });

  it('records breaker states and transitions, busy pauses, and requests the inbox endpoint shed', async () => {
    const meters = metering();
    const telemetry = createTelemetry({ meterProvider: meters.provider });
    let answer: Error | undefined = new TransportError('connection refused', { retryable: true });
    const down: Transport = { name: 'billing', send: async () => { if (answer) throw answer; } };
    const busy: Transport = { name: 'audit', send: async () => { throw new TransportError('busy', { status: 503, retryAfterMs: 60_000, busy: true }); } };
    const outbox = createOutbox({ store: createMemoryOutboxStore(), source: 's', logger: silentLogger, retention: false, sendAfterCommit: false, concurrency: 1, retry: { initialDelayMs: 0 }, flowControl: { breaker: { failureThreshold: 2, openMs: 60_000 } } })
      .configure('to.billing', { transport: down })
      .configure('to.audit', { transport: busy });
    const inbox = createInbox({ store: createMemoryInboxStore(), logger: silentLogger, retention: false, unknownTypes: 'accept' });
    const stop = telemetry.observe({ outbox, inbox });
    await outbox.transaction(async (tx) => {
      for (const type of ['to.billing', 'to.billing', 'to.billing', 'to.audit']) await outbox.add(tx, { type, payload: {} });
    });
    await outbox.resendUnsentMessages();
    const handle = createInboxRequestHandler(inbox, { allowUnsigned: true, logger: silentLogger, shedLoad: { maxInFlightReceives: 1 } });
    const post = () => handle(new Request('http://x/inbox', { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': crypto.randomUUID() }, body: JSON.stringify({ type: 'x', data: {}, timestamp: new Date().toISOString() }) }));
    const statuses = (await Promise.all([post(), post()])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 503]);

    const metrics = await meters.collect();
    expect(point(metrics.get('messagebox.breaker.state'), { 'messagebox.destination': 'billing' })?.value).toBe(2);
    expect(point(metrics.get('messagebox.breaker.state'), { 'messagebox.destination': 'audit' })?.value).toBe(0);
    expect(point(metrics.get('messagebox.breaker.transitions'), { 'messagebox.destination': 'billing', 'messagebox.breaker.state': 'open' })?.value).toBe(1);
    expect(point(metrics.get('messagebox.destination.pauses'), { 'messagebox.destination': 'audit' })?.value).toBe(1);
    expect(point(metrics.get('messagebox.inbox.shed'), { 'messagebox.shed.reason': 'in_flight' })?.value).toBe(1);
    answer = undefined;
    stop();
  });
});
