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
import type { WriteRecord } from '../emulators/kit/index.ts';
import { startEmulators, type EmulatorSet } from '../src/demo/emulated.ts';
import { cpuSeconds, progress, sleep, startBenchEnv } from './env.ts';
import { jobDiff, jobSnapshot, webhookAcceptSnapshot } from './job-stats.ts';
import { ms1, percentile } from './stats.ts';
import { createBenchTenant, type BenchTenant } from './tenants.ts';
import { unseenChange } from '../src/db/push-cursor.ts';

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

interface Sale {
  tenant: number;
  item: number;
  channel: ChannelType;
  at: number;
  ok: boolean | null;
  error?: string;
  /** Ledger source_event_id when the sale's answer names it (Epos Now transaction, Deliveroo order). */
  eventId?: string;
}

async function makeSale(pools: Map<ChannelType, Pool>, emulators: EmulatorSet, t: BenchTenant, sale: Sale, direct: boolean): Promise<void> {
  const ch = t.channels.find((c) => c.type === sale.channel)!;
  const sku = t.items[sale.item]!.sku;
  try {
    let body: Record<string, unknown>;
    if (direct) {
      const emu = emulators[sale.channel];
      body = await emu.spec.sale(emu, emu.accounts.get(ch.accountId), { sku, qty: 1 });
    } else {
      const res = await pools.get(sale.channel)!.request({
        path: `/_control/accounts/${encodeURIComponent(ch.accountId)}/sale`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku, qty: 1 }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      body = (await res.body.json()) as Record<string, unknown>;
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(body).slice(0, 200)}`);
    }
    if (body.ok === false) throw new Error(String(body.error));
    sale.ok = true;
    const txn = (body.transaction as { Id?: number } | undefined)?.Id;
    const order = (body.order as { id?: string } | undefined)?.id;
    if (txn !== undefined) sale.eventId = `txn:${txn}`;
    else if (order !== undefined) sale.eventId = `order:${order}:new`;
  } catch (err) {
    sale.ok = false;
    sale.error = (err as Error).message;
  }
}

interface Quiet {
  ok: boolean;
  waitedMs: number;
  last: Record<string, number>;
}

/** Waits until no webhook is in flight, every event is applied, no listing is dirty and no sync job is queued. */
async function quiescence(env: Awaited<ReturnType<typeof startBenchEnv>>, emulators: EmulatorSet, limitMs: number): Promise<Quiet> {
  const started = Date.now();
  let calm = 0;
  let last: Record<string, number> = {};
  while (Date.now() - started < limitMs) {
    const inflight = (await Promise.race([Promise.all(TYPES.map((ty) => emulators[ty].drain())).then(() => 0), sleep(200).then(() => 1)])) as number;
    const { rows } = await env.sc.ctx.db.query<{ unapplied: number; dirty: number; jobs: number; waiting: Record<string, number> | null }>(
      `select (select count(*) from channel_events where applied_at is null)::int as unapplied,
              (select count(*) from listings l join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
                where l.item_id is not null and (l.dirty_seq > l.pushed_seq or exists (
                  select 1 from stock_levels s where s.tenant_id = l.tenant_id and s.item_id = l.item_id and ${unseenChange('s', 'c')})))::int
              + (select count(*) from job_outbox)::int as dirty,
              (select count(*) from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
                where t.identifier in ('watcher_apply', 'sync_push', 'watcher_poll') and j.attempts < j.max_attempts)::int as jobs,
              (select json_object_agg(k, n) from (
                 select t.identifier || case when j.run_at > now() then '(later)' else '' end || case when j.last_error is not null then '(failing)' else '' end as k,
                        count(*) as n
                 from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
                 where t.identifier in ('watcher_apply', 'sync_push', 'watcher_poll') and j.attempts < j.max_attempts group by 1) x) as waiting`,
    );
    const r = rows[0]!;
    last = {
      webhooks_in_flight: inflight,
      unapplied: r.unapplied,
      dirty: r.dirty,
      jobs: r.jobs,
      ...Object.fromEntries(Object.entries(r.waiting ?? {}).map(([k, v]) => [`job ${k}`, v])),
    };
    calm = inflight === 0 && r.unapplied === 0 && r.dirty === 0 && r.jobs === 0 ? calm + 1 : 0;
    if (calm >= 3) return { ok: true, waitedMs: Date.now() - started, last };
    await sleep(250);
  }
  return { ok: false, waitedMs: Date.now() - started, last };
}

export async function benchPropagation(o: PropagationOptions): Promise<Record<string, unknown>> {
  const env = await startBenchEnv({ productProcess: true });
  const emulators = await startEmulators();
  const pools = new Map<ChannelType, Pool>(TYPES.map((ty) => [ty, new Pool(emulators[ty].url, { connections: 16, pipelining: 1 })]));
  try {
    const ctx = env.sc.ctx;
    const setupStart = Date.now();
    const tenants: BenchTenant[] = [];
    for (let i = 0; i < o.tenants; i += 4) {
      const group = Array.from({ length: Math.min(4, o.tenants - i) }, (_, k) =>
        createBenchTenant(ctx, env.sc.url!, emulators, { index: i + k, items: o.items, qty: INITIAL, types: TYPES }),
      );
      tenants.push(...(await Promise.all(group)));
    }
    progress(`${o.tenants} tenants x (Epos Now, Wix, Deliveroo) x ${o.items} items connected in ${Date.now() - setupStart} ms`);

    // Writes each channel receives, per (account, external id), in arrival order.
    const writes = new Map<string, WriteRecord[]>();
    const onWrite = (w: WriteRecord) => {
      const k = `${w.accountId}|${w.externalId}`;
      const list = writes.get(k);
      if (list) list.push(w);
      else writes.set(k, [w]);
    };
    for (const ty of TYPES) emulators[ty].events.on('write', onWrite);
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
    const quiet = await quiescence(env, emulators, o.settleS * 1000);
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
    for (const ty of TYPES) emulators[ty].events.off('write', onWrite);

    // Propagation per sale: expected level right after it = initial - its rank among the item's successful sales.
    const byItem = new Map<string, Sale[]>();
    for (const s of sales) {
      if (!s.ok) continue;
      const k = `${s.tenant}|${s.item}`;
      const list = byItem.get(k);
      if (list) list.push(s);
      else byItem.set(k, [s]);
    }
    const latencies: number[] = [];
    const perTarget: Record<string, number[]> = { eposnow: [], wix: [] };
    const perSource: Record<string, number[]> = { eposnow: [], wix: [], deliveroo: [] };
    let unpropagated = 0;
    const unpropagatedSamples: string[] = [];
    for (const [k, list] of byItem) {
      const [ti, ii] = k.split('|').map(Number) as [number, number];
      const t = tenants[ti]!;
      const sku = t.items[ii]!.sku;
      list.sort((a, b) => a.at - b.at);
      list.forEach((s, rank) => {
        const expected = INITIAL - (rank + 1);
        let worst = 0;
        for (const ch of t.channels) {
          if (!QTY_TYPES.has(ch.type) || ch.type === s.channel) continue;
          const got = (writes.get(`${ch.accountId}|${ch.externalBySku.get(sku)}`) ?? []).find((w) => w.at >= s.at && w.qty !== null && w.qty <= expected);
          // Never reached: counted as at least the whole wait, so it cannot hide in the percentiles.
          const ms = got ? got.at - s.at : endAt - s.at;
          if (!got) {
            unpropagated++;
            if (unpropagatedSamples.length < 3) unpropagatedSamples.push(`${s.channel} sale of ${sku} -> ${ch.type} (expected <= ${expected})`);
          }
          perTarget[ch.type]!.push(ms);
          worst = Math.max(worst, ms);
        }
        latencies.push(worst);
        perSource[s.channel]!.push(worst);
      });
    }
    if (unpropagatedSamples.length) progress(`unpropagated e.g. ${unpropagatedSamples.join('; ')}`);

    // The ledger after quiescence: lost / doubled per item, and what each channel holds.
    const { rows: levels } = await ctx.db.query<{ tenant_id: string; item_id: string; on_hand: number; reserved: number }>(
      `select tenant_id, item_id, sum(on_hand)::int as on_hand, sum(reserved)::int as reserved from stock_levels group by 1, 2`,
    );
    const level = new Map(levels.map((r) => [`${r.tenant_id}|${r.item_id}`, r]));
    let lost = 0;
    let doubled = 0;
    let channelsMismatched = 0;
    let listingsMismatched = 0;
    const mismatchSamples: string[] = [];
    for (const t of tenants) {
      const sold = new Map<number, number>();
      for (const s of sales) if (s.ok && s.tenant === t.index) sold.set(s.item, (sold.get(s.item) ?? 0) + 1);
      t.items.forEach((it, i) => {
        const ledger = level.get(`${t.tenantId}|${it.id}`)?.on_hand ?? 0;
        const expected = INITIAL - (sold.get(i) ?? 0);
        lost += Math.max(0, ledger - expected);
        doubled += Math.max(0, expected - ledger);
      });
      for (const ch of t.channels) {
        const state = new Map(ch.emulator.spec.state(ch.emulator.accounts.get(ch.accountId)).map((s) => [s.externalId, s]));
        let bad = 0;
        for (const it of t.items) {
          const l = level.get(`${t.tenantId}|${it.id}`);
          const sellable = Math.max(0, (l?.on_hand ?? 0) - (l?.reserved ?? 0));
          const held = state.get(ch.externalBySku.get(it.sku) ?? '');
          const ok = ch.type === 'deliveroo' ? held?.available === sellable > 0 : held?.qty === sellable;
          if (!ok) {
            bad++;
            if (mismatchSamples.length < 3) mismatchSamples.push(`${ch.type} ${it.sku}: holds ${held?.qty ?? held?.available}, ledger sellable ${sellable}`);
          }
        }
        if (bad) channelsMismatched++;
        listingsMismatched += bad;
      }
    }
    if (mismatchSamples.length) progress(`mismatched e.g. ${mismatchSamples.join('; ')}`);

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
