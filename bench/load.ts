// `bench load --tenants T --rate R --duration S [--api N --workers M] [--noisy K] [--items I] [--report FILE]`:
// StockClerk as it scales out. N `stockclerk api` and M `stockclerk worker` processes (separate OS
// processes on one Postgres, src/cli) serve T tenants, each with an Epos Now till, a Wix shop and
// Deliveroo; the emulators run in this process, apart from the product's, as the platforms do.
// Sales are made on the emulators at R/s in total (open loop: due times do not wait for answers),
// spread evenly over the tenants, or with --noisy K tenant 0 selling at K times each other's rate.
// Each tenant's webhooks go to one api process (tenants spread round robin, as a load balancer
// that keeps a shop on one node would).
//
// Reported (last stdout line, JSON; interface for outside checks): propagation p50/p99 over all
// sales and per tenant (a sale's time: until every other quantity channel of its tenant holds the
// level after it; bench/sale-run.ts), the floor the platforms' documented rate budgets put under
// p99 for this load (p99_floor_ms), lost and doubled units (ledger against the sales), CPU per sale
// for the product processes and for Postgres, the largest RSS of any product process, queue depth
// and lag, and the path of an HTML report with charts (Chart.js, inlined: the file opens offline).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { CHANNELS, type EmulatedChannelType as ChannelType } from '../src/channels/registry.ts';
import { BUDGET_SHARE } from '../src/engine/rate-gate.ts';
import { cpuSeconds, progress, rssMb, sleep } from './env.ts';
import { checkLedger, makeSale, propagationTimes, quiescence, recordWrites, type Sale } from './sale-run.ts';
import { ms1, percentile } from './stats.ts';
import { startTenantFleet } from './tenants.ts';

export interface LoadOptions {
  tenants: number;
  rate: number;
  duration: number;
  api: number;
  workers: number;
  /** Tenant 0 sells at this many times each other tenant's rate (1: no noisy tenant). */
  noisy: number;
  items: number;
  settleS: number;
  /** Where the HTML report goes (default: a file in the OS temp dir). */
  report: string | null;
}

const TYPES: ChannelType[] = ['eposnow', 'wix', 'deliveroo'];
const QTY_TYPES: ReadonlySet<ChannelType> = new Set(TYPES.filter((t) => CHANNELS[t].capabilities.quantityModel !== 'availability'));
const INITIAL = 50_000;
/** A till's webhook makes its order poll run at most this often (src/http/routes/inbound-webhooks.ts). */
const HINTED_POLL_GAP_S = 0.5;

/** Per-tenant rates (sales/s): the noisy tenant's weight is `noisy`, every other tenant's 1. */
export function tenantRates(o: Pick<LoadOptions, 'tenants' | 'rate' | 'noisy'>): number[] {
  const weights = Array.from({ length: o.tenants }, (_, i) => (i === 0 ? o.noisy : 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => (o.rate * w) / sum);
}

/**
 * The lowest propagation time the platforms' documented budgets allow a tenant selling `rate`/s
 * spread over its channels (0 when they do not bind). Per quantity channel: pushes possible per
 * second = (its budget at our share, its burst spread over the run, - the polls its own sales
 * cause) / calls per push; a channel
 * that must take more changes than that coalesces them, and a sale waits up to one push interval.
 */
export function budgetFloorMs(rate: number, types: readonly ChannelType[], durationS: number): number {
  let floor = 0;
  for (const type of types) {
    if (!QTY_TYPES.has(type)) continue;
    const cap = CHANNELS[type].capabilities;
    const own = rate / types.length;
    const demand = rate - own;
    const polls = CHANNELS[type].webhook?.pollOnHint ? Math.min(own, 1 / HINTED_POLL_GAP_S) : 0;
    // The account's burst is spent once over the run: it adds burst / duration calls a second.
    const budget = (cap.rateLimit.perSecond + cap.rateLimit.burst / durationS) * BUDGET_SHARE;
    const pushes = (budget - polls) / (cap.callsPerPush ?? 1);
    if (pushes <= 0) return Infinity;
    if (demand > pushes) floor = Math.max(floor, 1000 / pushes);
  }
  return floor;
}

/** The sales in due order: a stride schedule, so each tenant's sales are spread evenly over the run. */
function schedule(rates: number[], total: number): number[] {
  const pass = rates.map(() => 0);
  const order: number[] = [];
  for (let n = 0; n < total; n++) {
    let best = 0;
    for (let i = 1; i < pass.length; i++) if (pass[i]! < pass[best]!) best = i;
    order.push(best);
    pass[best]! += 1 / rates[best]!;
  }
  return order;
}

interface Sample {
  t: number;
  /** CPU seconds so far per product process (same order as env.processes), and Postgres's. */
  cpu: number[];
  pgCpu: number;
  rss: number[];
  depth: number;
  lagMs: number;
}

export async function benchLoad(o: LoadOptions): Promise<Record<string, unknown>> {
  const fleet = await startTenantFleet({
    api: o.api,
    workers: o.workers,
    count: o.tenants,
    items: o.items,
    qty: INITIAL,
    types: TYPES,
    connections: 32,
    progressStep: 40,
  });
  const { env, emulators, pools, tenants } = fleet;
  const procs = env.processes!;
  try {
    const ctx = env.sc.ctx;
    const recorder = recordWrites(emulators, TYPES);
    const pm = env.db.postmasterPid?.() ?? null;
    const samples: Sample[] = [];
    const sample = async () => {
      const { rows } = await ctx.db.query<{ depth: number; lag_ms: number }>(
        `select count(*)::int as depth, coalesce(extract(epoch from now() - min(run_at)) * 1000, 0)::float8 as lag_ms
         from graphile_worker._private_jobs where locked_at is null and run_at <= now() and attempts < max_attempts`,
      );
      samples.push({
        t: Date.now(),
        cpu: procs.map((p) => cpuSeconds(p.pid)),
        pgCpu: pm ? cpuSeconds(pm, true) : NaN,
        rss: procs.map((p) => rssMb(p.pid)),
        depth: rows[0]!.depth,
        lagMs: rows[0]!.lag_ms,
      });
    };
    await sample();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sleep(1000);
        await sample().catch(() => {});
      }
    })();

    const rates = tenantRates(o);
    const total = Math.round(o.rate * o.duration);
    const order = schedule(rates, total);
    const channelTurn = tenants.map(() => 0);
    const sales: Sale[] = [];
    const inflight: Array<Promise<void>> = [];
    progress(
      `selling ${o.rate}/s for ${o.duration} s (${total} sales) over ${o.tenants} tenants${o.noisy !== 1 ? `, tenant 0 at ${o.noisy}x the others` : ''}`,
    );
    const start = Date.now();
    let nextReport = start + 5000;
    while (sales.length < total) {
      const due = Math.min(total, Math.floor(((Date.now() - start) * o.rate) / 1000) + 1);
      while (sales.length < due) {
        const tenant = order[sales.length]!;
        const sale: Sale = {
          tenant,
          item: Math.floor(Math.random() * o.items),
          channel: TYPES[channelTurn[tenant]!++ % TYPES.length]!,
          at: Date.now(),
          ok: null,
        };
        sales.push(sale);
        inflight.push(makeSale(pools, emulators, tenants[tenant]!, sale, false));
      }
      if (Date.now() >= nextReport) {
        const last = samples.at(-1);
        progress(`${sales.length} sales issued${last ? `; queue ${last.depth} jobs, oldest waiting ${Math.round(last.lagMs)} ms` : ''}`);
        nextReport += 5000;
      }
      await sleep(2);
    }
    const sellS = (Date.now() - start) / 1000;
    await Promise.all(inflight);
    const failed = sales.filter((s) => !s.ok);
    progress(
      `${sales.length} sales issued in ${sellS.toFixed(1)} s, ${failed.length} refused${failed[0] ? ` (first: ${failed[0].error})` : ''}; waiting for quiescence`,
    );
    const quiet = await quiescence(ctx, emulators, TYPES, o.settleS * 1000);
    const endAt = Date.now();
    sampling = false;
    await sampler;
    await sample();
    recorder.stop();
    progress(`${quiet.ok ? 'quiescent' : 'NOT quiescent'} after ${quiet.waitedMs} ms ${JSON.stringify(quiet.last)}`);

    const prop = propagationTimes(sales, tenants, recorder.writes, { initial: INITIAL, qtyTypes: QTY_TYPES, endAt });
    if (prop.samples.length) progress(`unpropagated e.g. ${prop.samples.join('; ')}`);
    const ledger = await checkLedger(ctx, tenants, sales, INITIAL);
    if (ledger.samples.length) progress(`mismatched e.g. ${ledger.samples.join('; ')}`);

    const all = prop.worst.map((w) => w.ms);
    const byTenant = tenants.map(() => [] as number[]);
    for (const w of prop.worst) byTenant[w.sale.tenant]!.push(w.ms);
    const tenantP99 = byTenant.map((v) => percentile(v, 99));
    // Tenants 1.. are "the others" whether or not tenant 0 is noisy: bench fairness compares them.
    const others = byTenant.slice(1).flat();
    const floors = rates.map((r) => budgetFloorMs(r, TYPES, o.duration));
    const saleFloors = prop.worst.map((w) => floors[w.sale.tenant]!);

    const first = samples[0]!;
    const lastS = samples.at(-1)!;
    const n = sales.length;
    const productCpu = procs.map((_, i) => lastS.cpu[i]! - first.cpu[i]!);
    const rssMax = procs.map((_, i) => Math.max(...samples.map((s) => s.rss[i]!).filter(Number.isFinite)));
    const report = writeReport(o, { samples, sales: prop.worst, procs, tenants: o.tenants, start, floors }, o.report);
    progress(`report: ${report}`);
    return {
      tenants: o.tenants,
      rate: o.rate,
      sales: sales.filter((s) => s.ok).length,
      p50_ms: ms1(percentile(all, 50)),
      p99_ms: ms1(percentile(all, 99)),
      p99_floor_ms: ms1(percentile(saleFloors, 99)),
      lost: ledger.lost,
      double_applied: ledger.doubled,
      cpu_ms_per_sale: ms1((productCpu.reduce((a, b) => a + b, 0) * 1000) / n),
      pg_cpu_ms_per_sale: ms1(((lastS.pgCpu - first.pgCpu) * 1000) / n),
      rss_mb_max: ms1(Math.max(...rssMax)),
      report,
      duration_s: o.duration,
      achieved_rate: Math.round(n / sellS),
      sales_refused: failed.length,
      processes: procs.map((p, i) => ({ role: p.role, cpu_ms_per_sale: ms1((productCpu[i]! * 1000) / n), rss_mb_max: ms1(rssMax[i]!) })),
      per_tenant_p99_ms: { min: ms1(Math.min(...tenantP99)), median: ms1(percentile(tenantP99, 50)), max: ms1(Math.max(...tenantP99)) },
      tenant0_p99_ms: ms1(tenantP99[0]!),
      others_p50_ms: ms1(percentile(others, 50)),
      others_p99_ms: ms1(percentile(others, 99)),
      noisy_factor: o.noisy,
      queue_depth_max: Math.max(...samples.map((s) => s.depth)),
      queue_lag_ms_max: ms1(Math.max(...samples.map((s) => s.lagMs))),
      unpropagated: prop.unpropagated,
      channels_mismatched: ledger.channelsMismatched,
      listings_mismatched: ledger.listingsMismatched,
      quiescent: quiet.ok,
      ...(quiet.ok ? {} : { still_busy: quiet.last }),
      api_processes: o.api,
      worker_processes: o.workers,
      items_per_tenant: o.items,
      db: env.db.kind,
      machine_load_1m: Math.round(os.loadavg()[0]! * 100) / 100,
    };
  } finally {
    await fleet.stop();
  }
}

interface ReportData {
  samples: Sample[];
  sales: Array<{ sale: Sale; ms: number }>;
  procs: Array<{ role: string; pid: number }>;
  tenants: number;
  start: number;
  floors: number[];
}

/** One self-contained HTML file: Chart.js inlined, the data as JSON, four charts. */
function writeReport(o: LoadOptions, d: ReportData, file: string | null): string {
  const out = file ?? path.join(os.tmpdir(), `stockclerk-load-${new Date().toISOString().replace(/[:.]/g, '-')}.html`);
  // The UMD build sits beside the package's entry point (its exports map does not list it).
  const chartJs = fs.readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  // Latency over time: per second of the run, p50 and p99 of the quiet tenants, the noisy tenant's
  // p99, and (up to 6) single tenants' p99.
  const sec = (s: Sale) => Math.floor((s.at - d.start) / 1000);
  const buckets = new Map<string, number[]>();
  const put = (k: string, v: number) => (buckets.get(k) ?? buckets.set(k, []).get(k)!).push(v);
  let lastSec = 0;
  for (const w of d.sales) {
    const s = sec(w.sale);
    lastSec = Math.max(lastSec, s);
    if (o.noisy !== 1 && w.sale.tenant === 0) put(`noisy|${s}`, w.ms);
    else put(`quiet|${s}`, w.ms);
    if (w.sale.tenant < 6) put(`t${w.sale.tenant}|${s}`, w.ms);
  }
  const seconds = Array.from({ length: lastSec + 1 }, (_, i) => i);
  const series = (k: string, p: number) => seconds.map((s) => (buckets.has(`${k}|${s}`) ? Math.round(percentile(buckets.get(`${k}|${s}`)!, p)) : null));
  const latency = [
    { label: 'quiet tenants p50', data: series('quiet', 50) },
    { label: 'quiet tenants p99', data: series('quiet', 99) },
    ...(o.noisy !== 1 ? [{ label: `noisy tenant (x${o.noisy}) p99`, data: series('noisy', 99) }] : []),
    ...Array.from({ length: Math.min(6, d.tenants) }, (_, i) => ({ label: `tenant ${i} p99`, data: series(`t${i}`, 99), hidden: true })),
  ];
  const t0 = d.samples[0]!.t;
  const at = d.samples.slice(1).map((s) => Math.round((s.t - t0) / 100) / 10);
  const pct = (cur: number, prev: number, dt: number) => Math.round(((cur - prev) / dt) * 1000) / 10;
  const cpu = [
    ...d.procs.map((p, i) => ({
      label: `${p.role} ${p.pid}`,
      data: d.samples.slice(1).map((s, k) => pct(s.cpu[i]!, d.samples[k]!.cpu[i]!, (s.t - d.samples[k]!.t) / 1000)),
    })),
    { label: 'postgres', data: d.samples.slice(1).map((s, k) => pct(s.pgCpu, d.samples[k]!.pgCpu, (s.t - d.samples[k]!.t) / 1000)) },
  ];
  const queue = [
    { label: 'jobs waiting', data: d.samples.slice(1).map((s) => s.depth), yAxisID: 'y' },
    { label: 'oldest waiting (ms)', data: d.samples.slice(1).map((s) => Math.round(s.lagMs)), yAxisID: 'y1' },
  ];
  const rss = d.procs.map((p, i) => ({ label: `${p.role} ${p.pid}`, data: d.samples.slice(1).map((s) => Math.round(s.rss[i]!)) }));
  const data = { seconds, latency, at, cpu, queue, rss };
  const title = `StockClerk load: ${o.tenants} tenants, ${o.rate} sales/s for ${o.duration} s, ${o.api} api + ${o.workers} worker processes${o.noisy !== 1 ? `, noisy x${o.noisy}` : ''}`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1100px}h1{font-size:18px}section{margin:28px 0}canvas{max-height:340px}</style>
<script>${chartJs}</script></head>
<body><h1>${title}</h1>
<p>Generated ${new Date().toISOString()} by <code>npm run bench -- load</code>. Propagation of a sale: until every other quantity channel of its tenant holds the level after it.</p>
<section><h2>Propagation (ms) by second of the run</h2><canvas id="latency"></canvas></section>
<section><h2>CPU (% of one core) per process</h2><canvas id="cpu"></canvas></section>
<section><h2>Job queue</h2><canvas id="queue"></canvas></section>
<section><h2>Resident memory (MB) per process</h2><canvas id="rss"></canvas></section>
<script>
const d = ${JSON.stringify(data)};
const line = (id, labels, datasets, extra = {}) => new Chart(document.getElementById(id), { type: 'line', data: { labels, datasets: datasets.map((s) => ({ ...s, pointRadius: 0, borderWidth: 1.5, spanGaps: true })) }, options: { animation: false, interaction: { mode: 'index', intersect: false }, scales: { x: { title: { display: true, text: 'seconds' } }, ...extra } } });
line('latency', d.seconds, d.latency, { y: { type: 'logarithmic', title: { display: true, text: 'ms' } } });
line('cpu', d.at, d.cpu);
line('queue', d.at, d.queue, { y: { position: 'left', title: { display: true, text: 'jobs' } }, y1: { position: 'right', title: { display: true, text: 'ms' }, grid: { drawOnChartArea: false } } });
line('rss', d.at, d.rss);
</script></body></html>
`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, html);
  return out;
}
