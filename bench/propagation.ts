// `bench propagation --tenants N --rate R --duration S`: end-to-end sync time. N tenants, each
// with Epos Now, Wix and Deliveroo emulated channels (connectEmulatedChannel) and `items` items with
// large stock. Sales at R/s for S s, spread round-robin over tenants and the three channels (random
// item), made on each emulator's /_control/accounts/:id/sale endpoint over HTTP (or, with --direct,
// by calling emulator.spec.sale in-process).
//
// Propagation time of a sale = from the moment the bench issued it until every OTHER
// quantity-holding channel of the tenant (Epos Now, Wix; Deliveroo holds only availability) has
// received a write (emulator 'write' event) with qty <= the ledger value expected right after
// that sale. Sales only decrement, so values are monotone and "<=" also credits a write that
// already covers later sales. After the sales stop the run waits for quiescence, then checks the
// ledger: expected on_hand = initial - successful sales, per item.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { EmulatedChannelType as ChannelType } from '../src/channels/registry.ts';
import { startEmulators } from '../src/demo/emulated.ts';
import { cpuSeconds, progress, sleep, startBenchEnv } from './env.ts';
import { jobDiff, jobSnapshot, webhookAcceptSnapshot } from './job-stats.ts';
import { ms1, percentile } from './stats.ts';
import { checkLedger, makeSale, propagationTimes, quiescence, recordWrites, type Sale } from './sale-run.ts';
import { createBenchTenants } from './tenants.ts';

export interface PropagationOptions {
  tenants: number;
  rate: number;
  duration: number;
  items: number;
  /** Longest wait for quiescence after the last sale. */
  settleS: number;
  /** Call emulator.spec.sale in-process instead of POSTing to /_control. */
  direct: boolean;
}

const TYPES: ChannelType[] = ['eposnow', 'wix', 'deliveroo'];
/** Channels that hold a quantity (Deliveroo holds only an available flag). */
const QTY_TYPES: ReadonlySet<ChannelType> = new Set(['eposnow', 'wix']);
// Large enough that nothing sells out, within Wix's documented quantity range (+-99,999).
const INITIAL = 50_000;

export async function benchPropagation(o: PropagationOptions): Promise<Record<string, unknown>> {
  const env = await startBenchEnv({ productProcess: true });
  const emulators = await startEmulators();
  const pools = new Map<ChannelType, Pool>(TYPES.map((ty) => [ty, new Pool(emulators[ty].url, { connections: 16, pipelining: 1 })]));
  try {
    const ctx = env.sc.ctx;
    const setupStart = Date.now();
    const tenants = await createBenchTenants(ctx, [env.sc.url!], emulators, { count: o.tenants, group: 4, items: o.items, qty: INITIAL, types: TYPES });
    progress(`${o.tenants} tenants x (Epos Now, Wix, Deliveroo) x ${o.items} items connected in ${Date.now() - setupStart} ms`);

    // Writes each channel receives, per (account, external id), in arrival order.
    const recorder = recordWrites(emulators, TYPES);
    const jobsBefore = await jobSnapshot(env.sc.url);
    const acceptBefore = await webhookAcceptSnapshot();
    const statsBefore = Object.fromEntries(TYPES.map((ty) => [ty, { ...emulators[ty].stats }]));
    const cpu = () => {
      const pm = env.db.postmasterPid?.();
      return { product: env.productPid ? cpuSeconds(env.productPid) : NaN, postgres: pm ? cpuSeconds(pm, true) : NaN };
    };
    const cpuBefore = cpu();

    // Open loop: sale i is due at start + i / rate, whatever the answers to earlier ones.
    const total = Math.round(o.rate * o.duration);
    const sales: Sale[] = [];
    const inflight: Array<Promise<void>> = [];
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    progress(`selling ${o.rate}/s for ${o.duration} s (${total} sales) via ${o.direct ? 'emulator.spec.sale in-process' : 'HTTP /_control/accounts/:id/sale'}`);
    const start = Date.now();
    let nextReport = start + 5000;
    while (sales.length < total) {
      const due = Math.min(total, Math.floor(((Date.now() - start) * o.rate) / 1000) + 1);
      while (sales.length < due) {
        const i = sales.length;
        const sale: Sale = {
          tenant: i % o.tenants,
          item: Math.floor(Math.random() * o.items),
          channel: TYPES[Math.floor(i / o.tenants) % TYPES.length]!,
          at: Date.now(),
          ok: null,
        };
        sales.push(sale);
        inflight.push(makeSale(pools, emulators, tenants[sale.tenant]!, sale, o.direct));
      }
      if (Date.now() >= nextReport) {
        progress(`${sales.length} sales issued`);
        nextReport += 5000;
      }
      await sleep(2);
    }
    const sellS = (Date.now() - start) / 1000;
    await Promise.all(inflight);
    loop.disable();
    const failed = sales.filter((s) => !s.ok);
    progress(
      `${sales.length} sales issued in ${sellS.toFixed(1)} s, ${failed.length} refused${failed[0] ? ` (first: ${failed[0].error})` : ''}; waiting for quiescence (<= ${o.settleS} s)`,
    );
    const quiet = await quiescence(ctx, emulators, TYPES, o.settleS * 1000);
    const endAt = Date.now();
    const cpuAfter = cpu();
    const jobs = jobDiff(jobsBefore, await jobSnapshot(env.sc.url));
    const acceptAfter = await webhookAcceptSnapshot();
    const webhookAccept = Object.fromEntries(
      Object.entries(acceptAfter).map(([k, a]) => {
        const b = acceptBefore[k] ?? { n: 0, sumS: 0 };
        return [k, { n: a.n - b.n, mean_ms: a.n > b.n ? ms1(((a.sumS - b.sumS) / (a.n - b.n)) * 1000) : 0 }];
      }),
    );
    progress(`${quiet.ok ? 'quiescent' : 'NOT quiescent'} after ${quiet.waitedMs} ms ${JSON.stringify(quiet.last)}`);
    recorder.stop();

    const prop = propagationTimes(sales, tenants, recorder.writes, { initial: INITIAL, qtyTypes: QTY_TYPES, endAt });
    const latencies = prop.worst.map((w) => w.ms);
    const perTarget = prop.perTarget;
    const perSource: Record<string, number[]> = { eposnow: [], wix: [], deliveroo: [] };
    for (const w of prop.worst) perSource[w.sale.channel]!.push(w.ms);
    const unpropagated = prop.unpropagated;
    if (prop.samples.length) progress(`unpropagated e.g. ${prop.samples.join('; ')}`);

    // The ledger after quiescence: lost / doubled per item, and what each channel holds.
    const ledger = await checkLedger(ctx, tenants, sales, INITIAL);
    const { lost, doubled, channelsMismatched, listingsMismatched } = ledger;
    if (ledger.samples.length) progress(`mismatched e.g. ${ledger.samples.join('; ')}`);

    // Where the time goes: sale -> movement in the ledger (Epos Now and Deliveroo sales name their event).
    const named = sales.filter((s) => s.ok && s.eventId);
    const { rows: mv } = await ctx.db.query<{ source_event_id: string; at: Date }>(
      `select source_event_id, min(created_at) as at from stock_movements where source_event_id = any($1) group by 1`,
      [named.map((s) => s.eventId!)],
    );
    const movedAt = new Map(mv.map((r) => [r.source_event_id, new Date(r.at).getTime()]));
    const toLedger = named.filter((s) => movedAt.has(s.eventId!)).map((s) => movedAt.get(s.eventId!)! - s.at);

    const emu = Object.fromEntries(
      TYPES.map((ty) => {
        const b = statsBefore[ty]!;
        const a = emulators[ty].stats;
        return [
          ty,
          {
            calls: a.calls - b.calls,
            throttled: a.throttled - b.throttled,
            webhooks: a.webhooksSent - b.webhooksSent,
            webhooks_failed: a.webhooksFailed - b.webhooksFailed,
          },
        ];
      }),
    );
    const { rows: pushes } = await ctx.db.query<{ outcome: string; n: number }>(
      `select kind || ':' || outcome as outcome, count(*)::int as n from sync_events group by 1 order by 1`,
    );
    const pct = (v: number[]) => ({
      p50: ms1(percentile(v, 50)),
      p90: ms1(percentile(v, 90)),
      p99: ms1(percentile(v, 99)),
      max: ms1(v.length ? Math.max(...v) : NaN),
    });
    return {
      tenants: o.tenants,
      rate: o.rate,
      duration_s: o.duration,
      sales: sales.filter((s) => s.ok).length,
      sales_refused: failed.length,
      achieved_rate: Math.round(sales.length / sellS),
      p50_ms: ms1(percentile(latencies, 50)),
      p90_ms: ms1(percentile(latencies, 90)),
      p99_ms: ms1(percentile(latencies, 99)),
      max_ms: ms1(latencies.length ? Math.max(...latencies) : NaN),
      lost,
      double_applied: doubled,
      channels_mismatched: channelsMismatched,
      listings_mismatched: listingsMismatched,
      unpropagated,
      quiescent: quiet.ok,
      quiescence_ms: quiet.waitedMs,
      ...(quiet.ok ? {} : { still_busy: quiet.last }),
      sale_via: o.direct ? 'emulator.spec.sale' : 'http /_control sale',
      to_target_ms: { eposnow: pct(perTarget.eposnow!), wix: pct(perTarget.wix!) },
      by_sale_channel_p99_ms: Object.fromEntries(Object.entries(perSource).map(([k, v]) => [k, ms1(percentile(v, 99))])),
      sale_to_ledger_ms: pct(toLedger),
      // CPU the product and its Postgres spent from the first sale to quiescence: the cost of a sale,
      // steadier than latency on a shared machine.
      cpu_ms_per_sale: {
        product: ms1(((cpuAfter.product - cpuBefore.product) * 1000) / sales.length),
        postgres: ms1(((cpuAfter.postgres - cpuBefore.postgres) * 1000) / sales.length),
      },
      emulators: emu,
      jobs,
      webhooks_accepted: webhookAccept,
      sync_events: Object.fromEntries(pushes.map((r) => [r.outcome, r.n])),
      main_loop_delay_p99_ms: ms1(loop.percentile(99) / 1e6),
      items_per_tenant: o.items,
      note: 'Deliveroo holds availability only: it is a sale source, never a propagation target',
      db: env.db.kind,
    };
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
    await emulators.close();
    await env.stop();
  }
}
