// Tracing (issue 16, point 10): one trace per sale across processes. A `stockclerk api` and a
// `stockclerk worker`, spawned with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a tiny OTLP/HTTP
// receiver in this test (JSON, what @opentelemetry/exporter-trace-otlp-http sends), take a sale's
// webhook from the Wix emulator; the trace of that webhook's request must hold the Watcher's apply
// job, the push job to the other channel and the push's call to that platform, from both
// processes, with pg spans. And without the variable, not one OpenTelemetry module is loaded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, sale } from '../helpers/tenant.ts';

interface Span {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
}

/** An OTLP/HTTP JSON receiver: POST /v1/traces, spans flattened with their service's name. */
async function startReceiver(): Promise<{ url: string; spans: Span[]; close(): Promise<void> }> {
  const spans: Span[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue;
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                kind: s.kind,
                attributes: Object.fromEntries((s.attributes ?? []).map((a: any) => [a.key, Object.values(a.value ?? {})[0]])),
                links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
              });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

let h: Harness;
let emus: EmulatorSet;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const procs: ChildProcess[] = [];
let apiUrl: string;

function stockclerk(role: 'api' | 'worker', env: NodeJS.ProcessEnv): ChildProcess {
  const p = spawn(process.execPath, [path.resolve('bin/stockclerk.js'), role], {
    env: { ...process.env, DATABASE_URL: h.testDb.url, DATA_DIR: h.dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  // The harness gives the database (and direct access to it); the product runs in the two children.
  h = await startHarness({ worker: false, relay: false });
  emus = await startEmulators();
  receiver = await startReceiver();
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' };
  stockclerk('api', { ...otel, PORT: String(port), HOST: '127.0.0.1' });
  stockclerk('worker', { ...otel, PORT: '0' });
  await eventually(async () => (await fetch(`${apiUrl}/healthz`).catch(() => null))?.ok === true, 30_000, 'the api process to answer');
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)));
  await receiver?.close();
  await emus?.close();
  await h?.stop();
});

describe('tracing', () => {
  it("one trace covers a sale's webhook, its apply job, its push job and the push's platform call, across the api and worker processes", async () => {
    // Deliveroo sends one webhook per order (Wix sends two for a sale, the order and the level
    // change, which the Watcher's job key may fold into one job: that job links to both instead).
    const t = await emulatedTenant({ ...h, url: apiUrl }, emus, { types: ['deliveroo', 'eposnow'], items: [{ sku: 'TR-1', name: 'Traced', qty: 20 }] });
    const eposCalls = emus.eposnow.stats.calls;
    expect((await sale(emus, 'deliveroo', t.channels.deliveroo!.accountId, 'TR-1', 1)).ok).toBe(true);
    await eventually(() => held(emus, 'eposnow', t.channels.eposnow!.accountId, 'TR-1')?.qty === 19, 30_000, 'Epos Now to hold 19');
    expect(emus.eposnow.stats.calls).toBeGreaterThan(eposCalls);

    const webhookOf = (s: Span) =>
      s.service === 'stockclerk-api' && s.kind === 2 && JSON.stringify(s.attributes).includes(`/webhooks/deliveroo/${t.channels.deliveroo!.channelId}`);
    // A client span (undici) to Epos Now under one of the trace's sync_push job spans.
    const eposCallIn = (trace: Span[]) =>
      trace.find(
        (c) =>
          c.kind === 3 &&
          String(c.attributes['url.full'] ?? '').startsWith(emus.eposnow.url) &&
          trace.some((p) => p.spanId === c.parentSpanId && p.name === 'job sync_push'),
      );
    let trace: Span[] = [];
    await eventually(
      () => {
        const hook = receiver.spans.find(webhookOf);
        trace = hook ? receiver.spans.filter((s) => s.traceId === hook.traceId) : [];
        return !!eposCallIn(trace);
      },
      20_000,
      "the sale's trace to reach the receiver, down to the push's platform call",
    );
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const hook = trace.find(webhookOf)!;
    const call = eposCallIn(trace)!;
    const push = byId.get(call.parentSpanId!)!;
    const apply = byId.get(push.parentSpanId!)!;
    expect(apply.name).toBe('job watcher_apply');
    // Two processes, one trace: the webhook in the api, the jobs and the platform call in the worker.
    expect(hook.service).toBe('stockclerk-api');
    expect([apply.service, push.service, call.service]).toEqual(['stockclerk-worker', 'stockclerk-worker', 'stockclerk-worker']);
    // The chain of causes: the call's parent is the push job, whose parent is the apply job, whose
    // ancestors hold the webhook's request.
    const ancestors = (s: Span): string[] => (s.parentSpanId && byId.has(s.parentSpanId) ? [s.parentSpanId, ...ancestors(byId.get(s.parentSpanId)!)] : []);
    expect(ancestors(apply)).toContain(hook.spanId);
    // pg instrumentation: the intake's statement under the request, the ledger's under the apply job.
    const pg = trace.filter((s) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql');
    expect(pg.some((s) => s.service === 'stockclerk-api' && ancestors(s).includes(hook.spanId))).toBe(true);
    expect(pg.some((s) => s.service === 'stockclerk-worker' && ancestors(s).includes(apply.spanId))).toBe(true);
  }, 90_000);

  it('with OTEL_EXPORTER_OTLP_ENDPOINT unset no OpenTelemetry SDK or instrumentation is loaded; set, they are', () => {
    // A resolve hook, loaded with --import, writes every module the process resolves at exit; the
    // command loads src/cli/main.ts (and with it pg, fastify, undici) and stops at its usage line.
    const out = path.join(h.dataDir, 'resolved.json');
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { registerHooks } from 'node:module'; import { writeFileSync } from 'node:fs'; const seen = [];
       registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
       process.on('exit', () => writeFileSync(process.env.RESOLVED_OUT, JSON.stringify(seen)));`,
    )}`;
    const loaded = (env: NodeJS.ProcessEnv) => {
      fs.rmSync(out, { force: true });
      const r = spawnSync(process.execPath, ['--import', hook, path.resolve('bin/stockclerk.js'), 'no-such-command'], {
        env: { ...env, RESOLVED_OUT: out },
        encoding: 'utf8',
      });
      expect(fs.existsSync(out), r.stderr).toBe(true);
      const urls = JSON.parse(fs.readFileSync(out, 'utf8')) as string[];
      expect(urls.some((u) => u.includes('/src/cli/main.ts'))).toBe(true);
      // @opentelemetry/api alone is loaded by prom-client either way (its exemplars read the active
      // span): the API without an SDK is a no-op. The SDK, exporter, instrumentations are ours.
      return urls.filter((u) => /\/@opentelemetry\/(?!api\/)|\/@fastify\/otel\/|\/src\/obs\/tracing\.ts/.test(u));
    };
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    expect(loaded(env)).toEqual([]);
    expect(loaded({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }).length).toBeGreaterThan(0);
  }, 60_000);
});
