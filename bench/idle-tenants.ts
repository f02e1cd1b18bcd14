// `bench tenants --count N [--active A] [--window S] [--api 1 --workers 1]`: what a thousand mostly
// idle tenants cost. N tenants, each with an Epos Now till, a Wix shop and Deliveroo (5 items),
// connected the way merchants connect them, served by `stockclerk api` and `stockclerk worker`
// processes; A of them (default 1%) sell one unit a second between them so the rest stay idle
// beside some traffic (the idle ones dated as idle for an hour). After a settling pause the bench samples every second for the window: the
// RSS of each product process (largest seen), their CPU and Postgres's as a share of one core, and
// the platform calls per second (the safety-net polls and pushes: what idle tenants cost outside),
// and the jobs waiting by kind at the end.
//
// Last stdout line (interface for outside checks): {tenants, rss_mb_api, rss_mb_worker, idle_cpu_pct, ...}.
// idle_cpu_pct is the product processes' CPU (api + workers) in percent of one core over the window.
import type { EmulatedChannelType as ChannelType } from '../src/channels/registry.ts';
import { cpuSeconds, progress, rssMb, sleep } from './env.ts';
import { makeSale, type Sale } from './sale-run.ts';
import { ms1 } from './stats.ts';
import { startTenantFleet } from './tenants.ts';

export interface IdleTenantsOptions {
  count: number;
  /** Tenants that sell during the window (one sale a second between them); 0 for none. */
  active: number;
  windowS: number;
  settleS: number;
  api: number;
  workers: number;
}

const TYPES: ChannelType[] = ['eposnow', 'wix', 'deliveroo'];
const ITEMS = 5;

export async function benchIdleTenants(o: IdleTenantsOptions): Promise<Record<string, unknown>> {
  const fleet = await startTenantFleet({
    api: o.api,
    workers: o.workers,
    count: o.count,
    items: ITEMS,
    qty: 10_000,
    types: TYPES,
    connections: 8,
    progressStep: 100,
  });
  const { env, emulators, pools, tenants } = fleet;
  const procs = env.processes!;
  try {
    const ctx = env.sc.ctx;
    // Idle tenants have been idle for a while in life; here they were connected a minute ago. Their
    // channels are dated an hour back (connected a day ago, last push an hour ago), so what the
    // product does for quiet channels (EngineTuning.quietAfterS) shows in the window.
    const activeIds = tenants.slice(0, Math.min(o.active, tenants.length)).map((t) => t.tenantId);
    await ctx.db.query(`update channels set created_at = now() - interval '1 day', last_sync_at = now() - interval '1 hour' where not (tenant_id = any($1))`, [
      activeIds,
    ]);
    progress(`settling ${o.settleS} s`);
    await sleep(o.settleS * 1000);

    const pm = env.db.postmasterPid?.() ?? null;
    const kinds = async () =>
      (
        await ctx.db.query<{ task: string; n: number }>(
          `select t.identifier as task, count(*)::int as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id group by 1 order by 2 desc`,
        )
      ).rows;
    const first = { t: Date.now(), cpu: procs.map((p) => cpuSeconds(p.pid)), pg: pm ? cpuSeconds(pm, true) : NaN };
    const rssMax = procs.map((p) => rssMb(p.pid));
    const calls = () => TYPES.reduce((n, ty) => n + emulators[ty].stats.calls, 0);
    const calls0 = calls();
    const sales: Sale[] = [];
    const inflight: Array<Promise<void>> = [];
    const active = tenants.slice(0, Math.min(o.active, tenants.length));
    progress(`measuring ${o.windowS} s${active.length ? `, ${active.length} tenants selling 1 unit/s between them` : ', no sales'}`);
    for (let s = 0; s < o.windowS; s++) {
      if (active.length) {
        const tenant = active[s % active.length]!;
        const sale: Sale = { tenant: tenant.index, item: s % ITEMS, channel: TYPES[s % TYPES.length]!, at: Date.now(), ok: null };
        sales.push(sale);
        inflight.push(makeSale(pools, emulators, tenant, sale, false));
      }
      await sleep(1000);
      procs.forEach((p, i) => (rssMax[i] = Math.max(rssMax[i]!, rssMb(p.pid))));
    }
    await Promise.all(inflight);
    const last = { t: Date.now(), cpu: procs.map((p) => cpuSeconds(p.pid)), pg: pm ? cpuSeconds(pm, true) : NaN };
    const secs = (last.t - first.t) / 1000;
    const pct = (a: number, b: number) => ms1(((a - b) / secs) * 100);
    const platformCalls = calls() - calls0;
    const byRole = (role: 'api' | 'worker') => ms1(Math.max(...procs.flatMap((p, i) => (p.role === role ? [rssMax[i]!] : []))));
    const productPct = procs.reduce((n, _, i) => n + (last.cpu[i]! - first.cpu[i]!), 0);
    const result = {
      tenants: o.count,
      channels: o.count * TYPES.length,
      rss_mb_api: byRole('api'),
      rss_mb_worker: byRole('worker'),
      idle_cpu_pct: ms1((productPct / secs) * 100),
      pg_cpu_pct: pm ? pct(last.pg, first.pg) : null,
      active_tenants: active.length,
      sales: sales.length,
      platform_calls_per_s: ms1(platformCalls / secs),
      window_s: ms1(secs),
      processes: procs.map((p, i) => ({ role: p.role, rss_mb_max: ms1(rssMax[i]!), cpu_pct: pct(last.cpu[i]!, first.cpu[i]!) })),
      jobs_waiting: await kinds(),
    };
    return result;
  } finally {
    await fleet.stop();
  }
}
