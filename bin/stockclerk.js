#!/usr/bin/env node
// Runs on Node >= 22.18 with type stripping: the TypeScript sources are the program, no build step.
//
// Memory: V8 sizes the young generation by the machine's memory; on this 24 GiB host it lets new
// space grow to 128 MB per process (two 64 MB semi-spaces), committed for good once a burst of
// requests or jobs filled it, where StockClerk's short-lived allocations are served as well by
// 8 MB semi-spaces. Measured on an idle `stockclerk api`: 339 MB RSS with V8's default, 226 MB
// with 8 MB (BENCHMARKS.md, "Memory per process"). The flag has to be on the command line (V8
// ignores it once the heap exists), so the process replaces itself (process.execve: same pid,
// before anything is loaded) with it, unless the operator chose a size of their own in
// NODE_OPTIONS or on the command line.
const SEMI_SPACE_MB = 8;
const chosen = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));
if (!chosen && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, `--max-semi-space-size=${SEMI_SPACE_MB}`, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
// Tracing (OTEL_EXPORTER_OTLP_ENDPOINT): started before main.ts loads pg, fastify and undici, so
// their instrumentation is in place when they are first imported. Unset, nothing of OpenTelemetry is
// loaded at all (src/obs/tracing.ts is imported only here, only then).
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  const { startTracing } = await import('../src/obs/tracing.ts');
  startTracing(process.argv[2] ?? 'start');
}
await import('../src/cli/main.ts');
