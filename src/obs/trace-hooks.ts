// The seams tracing plugs into, and nothing else: no OpenTelemetry import. With
// OTEL_EXPORTER_OTLP_ENDPOINT unset these stay no-ops and no tracing code is ever loaded (the
// issue's "no cost when unset"); src/obs/tracing.ts, imported only when it is set, replaces them.
// A module of its own, below every layer, so intake, the ledger and the worker can all call it.

export interface TraceHooks {
  /** The W3C traceparent of the active span (the webhook request's, the running job's), if any. */
  traceparent(): string | undefined;
  /**
   * Runs a job inside a span of its own. The traceparents are the sales (or other causes) the job
   * was signalled for: one continues that trace, several (a job key folded them) become links.
   */
  job<T>(task: string, traceparents: readonly string[] | undefined, fn: () => Promise<T>): Promise<T>;
  /** Exports what is still buffered (a process that exits would lose its last batch). */
  shutdown(): Promise<void>;
}

/**
 * At most this many causes ride on one job (a burst of sales folded into one push): enough to
 * follow a burst, not a payload that grows with it.
 */
export const MAX_TRACE_CAUSES = 64;

export const traceHooks: TraceHooks = {
  traceparent: () => undefined,
  job: (_task, _traceparents, fn) => fn(),
  shutdown: async () => {},
};

export function installTraceHooks(hooks: TraceHooks): void {
  Object.assign(traceHooks, hooks);
}

/** A job payload's causes, as the relay merged them (src/db/jobs.ts relayOutbox). */
export function payloadTraceparents(payload: unknown): string[] | undefined {
  const t = (payload as { traceparents?: unknown } | null)?.traceparents;
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : undefined;
}
