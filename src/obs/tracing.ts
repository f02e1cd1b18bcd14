// OpenTelemetry for one StockClerk process, started by bin/stockclerk.js before src/cli/main.ts
// (and so before pg, fastify and undici) are loaded, and only when OTEL_EXPORTER_OTLP_ENDPOINT is
// set: without it this module is never imported and nothing of OpenTelemetry is loaded.
//
// One trace per sale, across processes: the webhook request's span (@fastify/otel) is the root;
// intake stores its traceparent in the watcher_apply job's outbox payload; the worker's job span
// continues it; the ledger stores the job's traceparent in the sync_push payloads it signals, whose
// job spans continue it again; each platform call under a push is an undici span. A job that a job
// key folded several causes into is a root of its own with a link to each (src/obs/trace-hooks.ts).
import { createRequire } from 'node:module';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { parseTraceParent, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { installTraceHooks, MAX_TRACE_CAUSES } from './trace-hooks.ts';

function envNumber(name: string): number | undefined {
  const n = Number(process.env[name]);
  return process.env[name] && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Starts tracing for `role` (start | api | worker | a one-off command); the service is `stockclerk-<role>` unless OTEL_SERVICE_NAME says otherwise. */
export function startTracing(role: string): void {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME || `stockclerk-${role}`,
      [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? '0.1.0',
    }),
    // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces) and OTEL_EXPORTER_OTLP_HEADERS;
    // the batch processor's delay is the standard OTEL_BSP_SCHEDULE_DELAY (default 5 s).
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: envNumber('OTEL_BSP_SCHEDULE_DELAY') })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);

  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Only under a request or a job: the relay's, the heartbeats' and graphile-worker's own polls
      // would otherwise each be a trace of one span, several a second.
      new PgInstrumentation({ requireParentSpan: true }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // Fastify announces each new instance on a diagnostics channel: no change to src/http/app.ts.
      // A span per request and its handler; one per plugin hook (a dozen a request) said little.
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        ignorePaths: (r) => r.url === '/healthz' || r.url === '/metrics',
      }),
    ],
  });
  // pg is CommonJS: require-in-the-middle patches it (Client.prototype.query, in place) when it is
  // first required. An ESM `import pg` reads the same cached module, so load it here, under the hook,
  // before src/cli/main.ts imports it.
  createRequire(import.meta.url)('pg');

  const tracer = provider.getTracer('stockclerk');
  installTraceHooks({
    traceparent() {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      return carrier.traceparent;
    },
    job(task, traceparents, fn) {
      const seen = new Set<string>();
      const causes: SpanContext[] = [];
      for (const tp of traceparents ?? []) {
        const sc = parseTraceParent(tp);
        if (sc && !seen.has(sc.spanId)) {
          seen.add(sc.spanId);
          causes.push(sc);
        }
      }
      // One cause: the job is a step of that sale's trace. Several (a job key folded them): picking
      // one would hide the others, so the job starts a trace of its own linking to each.
      const parent = causes.length === 1 ? trace.setSpanContext(ROOT_CONTEXT, causes[0]!) : ROOT_CONTEXT;
      const links: Link[] = causes.length > 1 ? causes.slice(0, MAX_TRACE_CAUSES).map((c) => ({ context: c })) : [];
      return tracer.startActiveSpan(
        `job ${task}`,
        {
          kind: SpanKind.CONSUMER,
          links,
          attributes: {
            'messaging.system': 'graphile_worker',
            'messaging.operation.type': 'process',
            'messaging.destination.name': task,
            'stockclerk.job.causes': causes.length,
          },
        },
        parent,
        async (span) => {
          try {
            return await fn();
          } catch (err) {
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
            throw err;
          } finally {
            span.end();
          }
        },
      );
    },
    shutdown: () => provider.shutdown(),
  });
}
