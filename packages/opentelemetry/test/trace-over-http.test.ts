import { serve, type ServerType } from '@hono/node-server';
import { createInbox, createMemoryInboxStore, createMemoryOutboxStore, createOutbox, generateWebhookSecret, silentLogger, type Message } from '@messagebox/core';
import { honoInbox } from '@messagebox/hono';
import { createHttpTransport } from '@messagebox/transport-http';
import { SpanKind, trace } from '@opentelemetry/api';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelemetry } from '../src/index.js';
import { tracing, useAsyncContext } from './support.js';

describe('trace context over real HTTP', () => {
  useAsyncContext();
  const sender = tracing();
  const receiver = tracing();
  const secret = generateWebhookSecret();
  const seen: { httpTraceparent?: string | undefined; message?: Message; activeTraceId?: string | undefined } = {};
  let handled!: Promise<void>;
  let server: ServerType;
  let url = '';

  const inbox = createInbox({ store: createMemoryInboxStore(), logger: silentLogger, retention: false, instrumentation: createTelemetry({ tracerProvider: receiver.provider }) });
  handled = new Promise((resolve) => {
    inbox.on('order.created', async (message) => {
      seen.message = message;
      seen.activeTraceId = trace.getActiveSpan()?.spanContext().traceId;
      resolve();
    });
  });

  beforeAll(async () => {
    const app = new Hono();
    app.use('/inbox', async (c, next) => {
      seen.httpTraceparent = c.req.header('traceparent');
      await next();
    });
    app.all('/inbox', honoInbox(inbox, { secret, logger: silentLogger }));
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        url = `http://127.0.0.1:${info.port}/inbox`;
        resolve();
      });
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a trace started on the sender arrives with the message and the receiver continues it', async () => {
    const transport = createHttpTransport({ url, secret });
    const outbox = createOutbox({
      store: createMemoryOutboxStore(),
      source: 'shop',
      logger: silentLogger,
      retention: false,
      instrumentation: createTelemetry({ tracerProvider: sender.provider }),
    }).configure('order.created', { transport });

    const checkout = await sender.tracer.startActiveSpan('checkout', async (span) => {
      await outbox.transaction((tx) => outbox.add(tx, { type: 'order.created', payload: { order: 7 } }));
      span.end();
      return span.spanContext();
    });
    await handled;
    await outbox.idle();
    await inbox.idle();
    await outbox.close();

    const traceparent = `00-${checkout.traceId}-${checkout.spanId}-01`;
    expect(seen.message!.headers['traceparent']).toBe(traceparent);
    expect(seen.httpTraceparent).toBe(traceparent);
    expect(seen.activeTraceId).toBe(checkout.traceId);

    const [send] = sender.exporter.getFinishedSpans().filter((s) => s.name === 'send order.created');
    expect(send).toBeDefined();
    expect(send!.kind).toBe(SpanKind.PRODUCER);
    expect(send!.spanContext().traceId).toBe(checkout.traceId);
    expect(send!.parentSpanContext?.spanId).toBe(checkout.spanId);
    expect(send!.attributes['messaging.message.id']).toBe(seen.message!.id);

    const [processSpan] = receiver.exporter.getFinishedSpans().filter((s) => s.name === 'process order.created');
    expect(processSpan).toBeDefined();
    expect(processSpan!.kind).toBe(SpanKind.CONSUMER);
    expect(processSpan!.spanContext().traceId).toBe(checkout.traceId);
    expect(processSpan!.parentSpanContext?.spanId).toBe(checkout.spanId);
    expect(processSpan!.parentSpanContext?.isRemote).toBe(true);
  });
});
