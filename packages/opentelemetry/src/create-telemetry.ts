import type { Inbox, Instrumentation, Message, Outbox } from '@messagebox/core';
import type { Attributes, BatchObservableResult, MeterProvider, Span, TextMapPropagator, TracerProvider } from '@opentelemetry/api';
import { loadOpenTelemetryApi } from './load-api.js';
import { extractHeaders, injectHeaders, remoteSpanContext } from './trace-context.js';

/**
 * Options of {@link createTelemetry}.
 *
 * @example
 * createTelemetry({ tracerProvider, meterProvider })
 */
export interface TelemetryOptions {
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /**
   * Stores the active context with each new message, in the headers the
   * propagator writes (W3C `traceparent`/`tracestate`, B3, `baggage`, …).
   * Default true.
   */
  propagate?: boolean;
  /**
   * Writes and reads the context in message headers. Default: the global
   * propagator (`propagation.inject`/`extract`), the one your SDK set up
   * (the Node SDK's default is W3C trace context + baggage; set
   * `OTEL_PROPAGATORS` or `textMapPropagator` for B3 and others). With no
   * propagator registered, nothing is propagated, as with any OpenTelemetry
   * instrumentation.
   */
  propagator?: TextMapPropagator;
  /** Instrumentation scope name of the tracer and meter. Default `@messagebox/opentelemetry`. */
  name?: string;
}

/** The services (or either one) whose events and store counts become metrics. */
export interface ObservedServices {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  outbox?: Outbox<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inbox?: Inbox<any>;
}

/**
 * OpenTelemetry for messagebox: pass it as `instrumentation` to
 * `createOutbox`/`createInbox` for spans and trace propagation, then call
 * `observe()` for metrics. Without `@opentelemetry/api` installed every
 * member is a no-op.
 *
 * Spans: `send <type>` (PRODUCER) around each delivery attempt and
 * `process <type>` (CONSUMER) around each handler run, both children of the
 * span that was active when the message was created (carried in its headers
 * by the configured propagators, with baggage), so one trace spans sender
 * and receiver. A batch handler run
 * (`inbox.onBatch`) is one `process <type>` span with a link to each
 * message's creation span and `messaging.batch.message_count`.
 *
 * Metrics: `messagebox.backlog`, `messagebox.oldest_pending.age` (s),
 * `messagebox.dead_messages` (gauges from store counts, read at each
 * collection), `messagebox.attempts` (counter by outcome),
 * `messagebox.latency` (s, creation to sent / creation to handled) and
 * `messagebox.attempt.duration` (s). Attributes: `messagebox.side`
 * (`outbox`|`inbox`), `messaging.destination.name` (the message type),
 * `messagebox.outcome`.
 *
 * Flow control: `messagebox.breaker.state` (gauge per destination: 0
 * closed, 1 half-open, 2 open), `messagebox.breaker.transitions` (counter by
 * `messagebox.breaker.state` entered), `messagebox.destination.pauses`
 * (counter of busy answers that paused a destination), both with
 * `messagebox.destination` (the transport's name); and on the inbox side
 * `messagebox.inbox.shed` (requests the endpoint refused to shed load, by
 * `messagebox.shed.reason`: `backlog` or `in_flight`).
 *
 * @example
 * const telemetry = createTelemetry();
 * const outbox = createOutbox({ store, source: 'vault', instrumentation: telemetry });
 * const inbox = createInbox({ store: storage.inbox, instrumentation: telemetry });
 * const stop = telemetry.observe({ outbox, inbox });
 */
export interface Telemetry extends Instrumentation {
  /** Records metrics from the services' events and store counts; returns a function that stops recording. */
  observe(services: ObservedServices): () => void;
}

const noop: Telemetry = { observe: () => () => {} };

/**
 * Creates the {@link Telemetry} hooks.
 *
 * @example
 * import { createTelemetry } from '@messagebox/opentelemetry';
 * const telemetry = createTelemetry();
 * createOutbox({ store, instrumentation: telemetry });
 */
export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  const api = loadOpenTelemetryApi();
  if (!api) return noop;
  const name = options.name ?? '@messagebox/opentelemetry';
  const tracer = (options.tracerProvider ?? api.trace.getTracerProvider()).getTracer(name);
  const propagate = options.propagate ?? true;
  const propagator: TextMapPropagator = options.propagator ?? api.propagation;

  /** Runs `run` in `span`: records a failure as an error status, ends the span either way. */
  async function runInSpan<T>(span: Span, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: api!.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  function spanned<T>(operation: 'send' | 'process', message: Message, attempt: number, run: () => Promise<T>): Promise<T> {
    const parent = extractHeaders(propagator, api!.context.active(), message.headers);
    const attributes: Attributes = {
      'messaging.system': 'messagebox',
      'messaging.operation.type': operation,
      'messaging.destination.name': message.type,
      'messaging.message.id': message.id,
      'messagebox.source': message.source,
      'messagebox.attempt': attempt,
    };
    const kind = operation === 'send' ? api!.SpanKind.PRODUCER : api!.SpanKind.CONSUMER;
    return tracer.startActiveSpan(`${operation} ${message.type}`, { kind, attributes }, parent, (span: Span) => runInSpan(span, run));
  }

  /** One `process <type>` span for a batch handler run, linked to every message's creation span (a batch has no single parent). */
  function spannedBatch<T>(messages: readonly Message[], attempts: readonly number[], run: () => Promise<T>): Promise<T> {
    const links = messages.flatMap((message) => {
      const linked = remoteSpanContext(api!, propagator, message.headers);
      return linked ? [{ context: linked, attributes: { 'messaging.message.id': message.id } }] : [];
    });
    const type = messages[0]?.type ?? 'batch';
    const attributes: Attributes = {
      'messaging.system': 'messagebox',
      'messaging.operation.type': 'process',
      'messaging.destination.name': type,
      'messaging.batch.message_count': messages.length,
      'messagebox.attempt': Math.max(0, ...attempts),
    };
    return tracer.startActiveSpan(`process ${type}`, { kind: api!.SpanKind.CONSUMER, attributes, links }, (span: Span) => runInSpan(span, run));
  }

  return {
    headers: () => (propagate ? injectHeaders(propagator, api.context.active()) : {}),
    send: (message, attempt, run) => spanned('send', message, attempt, run),
    handle: (message, attempt, run) => spanned('process', message, attempt, run),
    handleBatch: (messages, attempts, run) => spannedBatch(messages, attempts, run),
    observe: (services) => observe(options.meterProvider ?? api.metrics.getMeterProvider(), name, services),
  };
}

const BREAKER_GAUGE = { closed: 0, 'half-open': 1, open: 2 } as const;

function observe(meterProvider: MeterProvider, name: string, services: ObservedServices): () => void {
  const meter = meterProvider.getMeter(name);
  const backlog = meter.createObservableGauge('messagebox.backlog', { description: 'Messages waiting: pending (outbox) or received and not yet handled (inbox)', unit: '{message}' });
  const oldest = meter.createObservableGauge('messagebox.oldest_pending.age', { description: 'Age of the oldest waiting message', unit: 's' });
  const deadGauge = meter.createObservableGauge('messagebox.dead_messages', { description: 'Dead messages kept in the store', unit: '{message}' });
  const attempts = meter.createCounter('messagebox.attempts', { description: 'Delivery attempts (outbox) and handler runs (inbox), by outcome', unit: '{attempt}' });
  const latency = meter.createHistogram('messagebox.latency', { description: 'From message creation to sent (outbox) or handled (inbox)', unit: 's' });
  const duration = meter.createHistogram('messagebox.attempt.duration', { description: 'Duration of one successful attempt', unit: 's' });
  const breakerState = meter.createObservableGauge('messagebox.breaker.state', { description: 'Circuit breaker of each destination: 0 closed, 1 half-open, 2 open' });
  const transitions = meter.createCounter('messagebox.breaker.transitions', { description: 'Circuit breaker changes, by the state entered', unit: '{transition}' });
  const pauses = meter.createCounter('messagebox.destination.pauses', { description: 'Busy answers (503/429 with Retry-After) that paused a destination', unit: '{pause}' });
  const shed = meter.createCounter('messagebox.inbox.shed', { description: 'Requests the inbox endpoint refused to shed load', unit: '{request}' });

  const attrs = (side: 'outbox' | 'inbox', message: Message, outcome?: string): Attributes => ({
    'messagebox.side': side,
    'messaging.destination.name': message.type,
    ...(outcome ? { 'messagebox.outcome': outcome } : {}),
  });
  const since = (message: Message) => Math.max(0, (Date.now() - message.createdAt.getTime()) / 1000);
  const off: Array<() => void> = [];
  const { outbox, inbox } = services;
  if (outbox) {
    off.push(
      outbox.events.on('sent', ({ message, durationMs }) => {
        attempts.add(1, attrs('outbox', message, 'sent'));
        latency.record(since(message), attrs('outbox', message));
        duration.record(durationMs / 1000, attrs('outbox', message));
      }),
      outbox.events.on('failed', ({ message }) => attempts.add(1, attrs('outbox', message, 'retry'))),
      outbox.events.on('dead', ({ message }) => attempts.add(1, attrs('outbox', message, 'dead'))),
      outbox.events.on('breaker', ({ destination, state }) => transitions.add(1, { 'messagebox.destination': destination, 'messagebox.breaker.state': state })),
      outbox.events.on('paused', ({ destination }) => pauses.add(1, { 'messagebox.destination': destination })),
    );
  }
  if (inbox) {
    off.push(
      inbox.events.on('handled', ({ message, durationMs }) => {
        attempts.add(1, attrs('inbox', message, 'handled'));
        latency.record(since(message), attrs('inbox', message));
        duration.record(durationMs / 1000, attrs('inbox', message));
      }),
      inbox.events.on('handlerFailed', ({ message }) => attempts.add(1, attrs('inbox', message, 'retry'))),
      inbox.events.on('dead', ({ message }) => attempts.add(1, attrs('inbox', message, 'dead'))),
      inbox.events.on('shed', ({ reason, batch }) => shed.add(1, { 'messagebox.side': 'inbox', 'messagebox.shed.reason': reason, 'messagebox.batch': batch })),
    );
  }

  const callback = async (result: BatchObservableResult) => {
    const now = Date.now();
    const record = (side: 'outbox' | 'inbox', waiting: number, dead: number, oldestAt: Date | null) => {
      const attributes = { 'messagebox.side': side };
      result.observe(backlog, waiting, attributes);
      result.observe(deadGauge, dead, attributes);
      result.observe(oldest, oldestAt ? Math.max(0, (now - oldestAt.getTime()) / 1000) : 0, attributes);
    };
    const [o, i] = await Promise.all([outbox?.store.stats().catch(() => undefined), inbox?.store.stats().catch(() => undefined)]);
    if (o) record('outbox', o.pending, o.dead, o.oldestPendingAt);
    if (i) record('inbox', i.received, i.dead, i.oldestPendingAt);
    for (const d of outbox?.destinations?.() ?? []) {
      if (d.breaker !== 'disabled') result.observe(breakerState, BREAKER_GAUGE[d.breaker], { 'messagebox.destination': d.destination });
    }
  };
  meter.addBatchObservableCallback(callback, [backlog, oldest, deadGauge, breakerState]);
  return () => {
    meter.removeBatchObservableCallback(callback, [backlog, oldest, deadGauge, breakerState]);
    for (const unsubscribe of off) unsubscribe();
  };
}
