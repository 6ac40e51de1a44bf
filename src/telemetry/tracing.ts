/**
 * OpenTelemetry traces (DESIGN.md section 11), loaded only when start.ts finds an OTLP endpoint:
 * the Node SDK with the maintained instrumentations of HTTP, Express, GraphQL and pg, spans of
 * the service's own for provider attempts and key checks, exported by OTLP over HTTP (protobuf or
 * JSON) in batches. Sampling is parent-based: a request whose `traceparent` is sampled is always
 * recorded; a request without one is sampled at OTEL_TRACES_SAMPLER_ARG (DEFAULT_ROOT_RATIO); a
 * request not sampled runs with tracing suppressed and costs little more than without tracing
 * (RequestSampling).
 *
 * What no span may carry (a key, a prompt, an answer, a statement parameter, a token, a GraphQL
 * variable's value) is kept out twice: the instrumentations are configured not to record it, and
 * every span is scrubbed again before it is exported (scrubbed()).
 */
import { type Attributes, type Context, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, getRPCMetadata, isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
  type SpanProcessor,
  type TimedEvent,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { isPolled, pathOf } from '../request-target';
import type { AttemptRecord, KeyCheckRecord, TraceIds, Tracing } from './telemetry';

/**
 * Requests without a sampled parent recorded when OTEL_TRACES_SAMPLER is unset: one in a thousand.
 * Behind a router, requests come with its sampled `traceparent` and are all recorded; this is for
 * the others. Counted in instructions on Node 20, one in a hundred cost `modelCatalog` 14-22% a
 * request and one in a thousand 5-7% (docs/tracing-cost.md).
 */
export const DEFAULT_ROOT_RATIO = 0.001;

/**
 * A parent-based sampler's choice made for a whole request before anything of it is traced: the
 * request continues a `traceparent` that is sampled, or (without a valid one) it is drawn at the
 * root ratio. A request not chosen runs with tracing suppressed (the HTTP instrumentation's
 * ignoreIncomingRequestHook): no span is started for it, nor for its operation, its SQL or its
 * provider attempts, and the instrumentations skip their work; its log lines carry the trace id of
 * its `traceparent`, as without tracing. A request chosen gets its server span from the sampler
 * below, and the rest of its spans as children of that one.
 */
export interface RequestSampling {
  rootRatio: number;
}

/** The sampler's probability as the SDK reads OTEL_TRACES_SAMPLER_ARG for a ratio sampler: 1 unless it is one in [0, 1]. */
const ratioArgument = (value: string | undefined, otherwise: number) => {
  const ratio = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : otherwise;
};

/**
 * How requests are chosen, for the parent-based samplers (the default, parent-based at
 * DEFAULT_ROOT_RATIO, and OTEL_TRACES_SAMPLER=parentbased_*); undefined for the others
 * (always_on, always_off, traceidratio, which do not follow the parent), which the SDK applies
 * to each span as it is started.
 */
export function requestSampling(env: NodeJS.ProcessEnv): RequestSampling | undefined {
  switch (env.OTEL_TRACES_SAMPLER?.trim()) {
    case undefined:
    case '':
      return { rootRatio: ratioArgument(env.OTEL_TRACES_SAMPLER_ARG, DEFAULT_ROOT_RATIO) };
    case 'parentbased_always_on':
      return { rootRatio: 1 };
    case 'parentbased_always_off':
      return { rootRatio: 0 };
    case 'parentbased_traceidratio':
      return { rootRatio: ratioArgument(env.OTEL_TRACES_SAMPLER_ARG, 1) };
    default:
      return undefined;
  }
}

/** Whether a request is traced (RequestSampling): its sampled `traceparent`, else a draw (`random`) at the root ratio. */
export function chosen(sampling: RequestSampling, headers: Record<string, unknown>, random = Math.random): boolean {
  // The W3C propagator, as the HTTP instrumentation reads the header after this (without the header, no parent).
  const parent = headers.traceparent === undefined ? undefined : trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers));
  if (parent && isSpanContextValid(parent)) return (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
  return sampling.rootRatio > 0 && random() < sampling.rootRatio;
}

/**
 * The root sampler of the parent-based one: a request's server span is recorded, as the request
 * was chosen before it started (chosen()); a span without a parent is not (traces start with a
 * request: a request not chosen runs without one, see RequestContextManager).
 */
class ChosenRequests implements Sampler {
  shouldSample(_context: Context, _traceId: string, _name: string, kind: SpanKind) {
    return { decision: kind === SpanKind.SERVER ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return 'ChosenRequests';
  }
}

/** What runs outside any traced request: nothing of it is traced (see RequestContextManager). */
const UNTRACED_CONTEXT = suppressTracing(ROOT_CONTEXT);

/**
 * The async-hooks context manager, with two differences.
 *
 * It binds no request or response: the HTTP instrumentation binds every listener of both to the
 * request's context (a wrapper per listener added, a context switch per event), when the service
 * needs it for one callback only, the one that goes on once the body is read (Tracing.bound).
 * Other listeners run in the context of the connection.
 *
 * With parent-based sampling (`whileTraced`), contexts are carried across asynchronous work only
 * while a traced request is under way: AsyncLocalStorage, before Node 24, runs a hook on every
 * promise and every asynchronous resource the process makes once it is enabled, which cost each
 * request that was not chosen about as much as all the rest of tracing. It is enabled when a
 * request's server span starts and disabled when the last one open ends. Meanwhile a context
 * entered (`with`) is the active one for what runs synchronously in it, and what runs later, or
 * outside a request, runs with tracing suppressed (UNTRACED_CONTEXT), as a request not chosen
 * does: traces start with a request (ChosenRequests).
 *
 * What disabling does not undo: the first enabling installs V8's promise hooks, which invalidates
 * V8's PromiseHook protector for the rest of the process, so that TurboFan no longer inlines an
 * async function's entry and resolution, `new Promise` or `then` (`node
 * --trace-protector-invalidation` shows it once, at the first traced request; never in a server
 * without tracing or never sampling). Counted in instructions that was within 2% of none
 * (docs/tracing-cost.md); on Node 20 nothing carries a context across promises without them.
 */
class RequestContextManager extends AsyncLocalStorageContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  /** Whether `storage` carries contexts (a traced request is under way). */
  private carrying: boolean;
  /** Server spans recording and not yet ended. */
  private tracedRequests = 0;
  /** The context entered synchronously while `storage` does not carry any. */
  private entered: Context = UNTRACED_CONTEXT;

  constructor(private readonly whileTraced: boolean) {
    super();
    this.carrying = !whileTraced;
  }

  /**
   * Whether a request not chosen may run in the context it arrives in: no context is carried, so
   * it runs in UNTRACED_CONTEXT without entering it (the HTTP instrumentation's emit enters one).
   */
  get untracedByDefault(): boolean {
    return this.whileTraced && !this.carrying;
  }

  override active(): Context {
    return (this.carrying ? this.storage.getStore() : undefined) ?? (this.whileTraced ? this.entered : ROOT_CONTEXT);
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    if (this.carrying) return this.storage.run(context, () => fn.apply(thisArg as ThisParameterType<F>, args));
    const previous = this.entered;
    this.entered = context;
    try {
      return fn.apply(thisArg as ThisParameterType<F>, args);
    } finally {
      this.entered = previous;
    }
  }

  override bind<T>(context: Context, target: T): T {
    if (target instanceof http.IncomingMessage || target instanceof http.ServerResponse) return target;
    return super.bind(context, target);
  }

  override enable(): this {
    return this;
  }

  override disable(): this {
    this.storage.disable();
    this.carrying = !this.whileTraced;
    return this;
  }

  /** What the span processor below tells of server spans (a traced request's). */
  readonly requests: SpanProcessor = {
    onStart: (span) => {
      if (!this.whileTraced || span.kind !== SpanKind.SERVER || !span.isRecording()) return;
      this.tracedRequests += 1;
      this.carrying = true;
    },
    onEnd: (span) => {
      if (!this.whileTraced || span.kind !== SpanKind.SERVER) return;
      this.tracedRequests -= 1;
      if (this.tracedRequests > 0) return;
      this.tracedRequests = 0;
      this.carrying = false;
      this.storage.disable();
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingOptions {
  protocol: OtlpProtocol;
}

const isUpperName = (value: unknown) => typeof value === 'string' && /^[A-Z][A-Z0-9_]{0,47}$/.test(value);

/** Attributes that hold a URL: kept without their query string (a GET request's variables). */
const URL_ATTRIBUTES = new Set(['http.url', 'http.target', 'url.full', 'http.route']);
/** Attributes that may hold values of a statement or an operation: never exported. */
const DROPPED_ATTRIBUTE = /^(url\.query$|db\.postgresql\.values|db\.query\.parameter|db\.statement\.parameters|graphql\.variables)/;

/**
 * A span as it may leave the process: URLs without their query, no parameter or variable
 * attribute, exception events reduced to their type (a driver's message may quote a value), and a
 * status message only when it is one of the service's codes.
 */
export function scrubbed(span: ReadableSpan): ReadableSpan {
  const attributes = scrubbedAttributes(span.attributes);
  const events = span.events.map(scrubbedEvent);
  const status = span.status.message === undefined || isUpperName(span.status.message) ? span.status : { code: span.status.code };
  // Most spans hold nothing to take out: exported as they are, without a copy.
  if (attributes === span.attributes && status === span.status && events.every((event, index) => event === span.events[index])) return span;
  return Object.create(span, {
    attributes: { value: attributes, enumerable: true },
    events: { value: events, enumerable: true },
    status: { value: status, enumerable: true },
  }) as ReadableSpan;
}

/** The attributes without parameters or variables, URLs without their query: `given` itself when nothing changes, a copy made at the first change otherwise. */
function scrubbedAttributes(given: Attributes): Attributes {
  let copy: Attributes | undefined;
  const keys = Object.keys(given);
  keys.forEach((key, index) => {
    const value = given[key];
    const dropped = DROPPED_ATTRIBUTE.test(key);
    const kept = !dropped && URL_ATTRIBUTES.has(key) && typeof value === 'string' ? pathOf(value) : value;
    if (!copy && !dropped && kept === value) return;
    copy ??= Object.fromEntries(keys.slice(0, index).map((earlier) => [earlier, given[earlier]]));
    if (!dropped) copy[key] = kept;
  });
  return copy ?? given;
}

/** An exception event reduced to its type (a driver's message may quote a value); `event` itself when it is no more than that. */
function scrubbedEvent(event: TimedEvent): TimedEvent {
  if (event.name !== 'exception') return event;
  const type = event.attributes?.['exception.type'];
  const onlyType = type !== undefined && Object.keys(event.attributes ?? {}).every((key) => key === 'exception.type');
  return onlyType ? event : { ...event, attributes: { 'exception.type': type ?? 'Error' } };
}

function scrubbing(exporter: SpanExporter): SpanExporter {
  return {
    export: (spans, done) => exporter.export(spans.map(scrubbed), done),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

function exporterFor(protocol: OtlpProtocol): SpanExporter {
  // Each reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and _COMPRESSION itself.
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}

/** Starts tracing: must run before http, express, graphql and pg are loaded, so that they are instrumented. */
export function startTracing(env: NodeJS.ProcessEnv, options: TracingOptions): Tracing {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'byom-subgraph' }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
    .merge(detectResources({ detectors: [envDetector] }));
  const sampling = requestSampling(env);
  // From Node 24 on, AsyncLocalStorage costs a context switch, not a hook on every promise.
  const contextManager = new RequestContextManager(sampling !== undefined && Number(process.versions.node.split('.')[0]) < 24);
  const provider = new NodeTracerProvider({
    resource,
    // Parent-based: requests are chosen as they arrive (RequestSampling). Otherwise the SDK builds
    // the sampler OTEL_TRACES_SAMPLER names (always_on, traceidratio, …).
    ...(sampling ? { sampler: new ParentBasedSampler({ root: new ChosenRequests() }) } : {}),
    // Batched (OTEL_BSP_* tune it): a request never waits for an export.
    spanProcessors: [contextManager.requests, new BatchSpanProcessor(scrubbing(exporterFor(options.protocol)))],
  });
  // W3C trace context and baggage; the async-hooks context manager (RequestContextManager).
  provider.register({ contextManager });
  /** Whether a request is traced: not a polled route, and chosen (RequestSampling) unless the SDK's sampler decides. */
  const traced = (req: http.IncomingMessage) => !isPolled(req.url) && (sampling === undefined || chosen(sampling, req.headers));
  /** What the emit below decided for the request it is emitting, so that the HTTP instrumentation does not draw again. */
  let decided: boolean | undefined;
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Not traced: the polled routes, and requests not chosen (RequestSampling), which cost
        // nothing more of tracing than this check and a context with tracing suppressed; while
        // no context is carried they do not even come here (the emit below).
        ignoreIncomingRequestHook: (req) => !(decided ?? traced(req)),
        // The service's own outgoing HTTP is the exporter's; provider calls have spans of their own.
        disableOutgoingRequestInstrumentation: true,
      }),
      // Routers and handlers; a span per middleware would cost more than it tells.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      // The operation's name, type and document (literals replaced by '*'), never variables; field
      // timings are in the gateway's ftv1 traces instead of a span per field.
      new GraphQLInstrumentation({ allowValues: false, ignoreResolveSpans: true, mergeItems: true }),
      // Statements' text (parameters are placeholders), never their values; no spans outside a
      // request, nor for taking a pooled connection (the pool's gauges show that).
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true, addSqlCommenterCommentToQueries: false, ignoreConnectSpans: true }),
    ],
  });
  // graphql's execute is patched only when its own file is what is first required (graphql's
  // index, required first, keeps the unpatched one and no operation span would be made).
  const execution = require('graphql/execution/execute.js') as { execute: ((...args: unknown[]) => unknown) & { __original?: (...args: unknown[]) => unknown } };
  // A request not chosen runs graphql's own execute: the instrumentation's would still make a
  // span that records nothing, the operation's source text for it, and a context for the execution.
  const instrumented = execution.execute;
  const unpatched = instrumented.__original;
  if (typeof unpatched === 'function') {
    execution.execute = Object.assign(function execute(this: unknown, ...args: unknown[]) {
      return isTracingSuppressed(context.active()) ? unpatched.apply(this, args) : instrumented.apply(this, args);
    }, { __original: unpatched });
  }
  // A request not traced, while no context is carried, is emitted as without tracing: the HTTP
  // instrumentation's emit would only enter a context with tracing suppressed, which is the
  // context it runs in then anyway (RequestContextManager), and that for every request.
  // Patched when http is next required (as graphql's execute above).
  const server = (require('node:http') as typeof http).Server.prototype as { emit: ((...args: unknown[]) => boolean) & { __original?: (...args: unknown[]) => boolean } };
  const instrumentedEmit = server.emit;
  const unpatchedEmit = instrumentedEmit.__original;
  if (sampling && typeof unpatchedEmit === 'function') {
    server.emit = Object.assign(
      function emit(this: http.Server, event: unknown, request: unknown) {
        if (event !== 'request') return Reflect.apply(unpatchedEmit, this, arguments);
        const isTraced = traced(request as http.IncomingMessage);
        if (!isTraced && contextManager.untracedByDefault) return Reflect.apply(unpatchedEmit, this, arguments);
        decided = isTraced;
        try {
          return Reflect.apply(instrumentedEmit, this, arguments);
        } finally {
          decided = undefined;
        }
      },
      { __original: unpatchedEmit },
    );
  }
  const tracer = provider.getTracer('byom-subgraph');

  /** A span of something already done, under the active span: it started at `startedAt` and took `latencyMs`. */
  const record = (name: string, startedAt: Date, latencyMs: number, attributes: Attributes, failed: string | null, parent: Context = context.active()) => {
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: startedAt, attributes }, parent);
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: failed });
    span.end(new Date(startedAt.getTime() + latencyMs));
  };

  return {
    attempt(attempt: AttemptRecord, failover: boolean) {
      // A request not chosen (RequestSampling): no span, nor its attributes.
      if (isTracingSuppressed(context.active())) return;
      const attributes: Attributes = {
        'byom.provider': attempt.provider,
        'byom.model': attempt.modelId,
        'byom.billing': attempt.billing,
        'byom.attempt.outcome': attempt.outcome,
        'byom.attempt.latency_ms': attempt.latencyMs,
        'byom.attempt.cooldown_skip': attempt.outcome === 'SKIPPED' && attempt.reason === 'COOLING_DOWN',
        'byom.attempt.failover': failover,
        'gen_ai.request.model': attempt.modelId,
      };
      if (attempt.reason !== null) attributes['byom.attempt.reason'] = isUpperName(attempt.reason) ? attempt.reason : 'other';
      if (attempt.httpStatus !== null) attributes['http.response.status_code'] = attempt.httpStatus;
      record(`provider attempt ${attempt.provider}`, attempt.startedAt, attempt.latencyMs, attributes, attempt.outcome === 'FAILED' ? (attributes['byom.attempt.reason'] as string) ?? 'FAILED' : null);
    },
    keyCheck(check: KeyCheckRecord) {
      if (isTracingSuppressed(context.active())) return;
      const attributes: Attributes = { 'byom.provider': check.provider, 'byom.key_check.outcome': check.outcome, 'byom.key_check.latency_ms': check.latencyMs };
      if (check.httpStatus !== null) attributes['http.response.status_code'] = check.httpStatus;
      record(`key check ${check.provider}`, check.startedAt, check.latencyMs, attributes, check.outcome === 'ACCEPTED' ? null : check.outcome);
    },
    route(route: string) {
      // What the HTTP instrumentation reads when the response ends, as the Express instrumentation sets it.
      const metadata = getRPCMetadata(context.active());
      if (metadata?.type === RPCType.HTTP) metadata.route = route;
    },
    activeIds(): TraceIds | undefined {
      // A span that records: not one of a request that was not chosen (that one has its traceparent's trace id).
      const span = trace.getActiveSpan();
      if (!span?.isRecording()) return undefined;
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
    untraced: (work) => context.with(suppressTracing(context.active()), work),
    bound(callback) {
      const active = context.active();
      return isTracingSuppressed(active) ? callback : context.bind(active, callback);
    },
    shutdown: () => provider.shutdown(),
  };
}
