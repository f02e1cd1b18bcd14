// What the sales benchmarks (bench propagation, bench load) share: a sale made on an emulator the way
// a shopper makes one, the writes each channel receives, quiescence, the propagation time of each
// sale, and the ledger and channels checked against the sales after the run.
import type { Pool } from 'undici';
import type { EmulatedChannelType as ChannelType } from '../src/channels/registry.ts';
import type { WriteRecord } from '../emulators/kit/index.ts';
import type { EmulatorSet } from '../src/demo/emulated.ts';
import type { AppContext } from '../src/engine/context.ts';
import { unseenChange } from '../src/db/push-cursor.ts';
import { sleep } from './env.ts';
import type { BenchTenant } from './tenants.ts';

export interface Sale {
  tenant: number;
  item: number;
  channel: ChannelType;
  at: number;
  ok: boolean | null;
  error?: string;
  /** Ledger source_event_id when the sale's answer names it (Epos Now transaction, Deliveroo order). */
  eventId?: string;
}

export async function makeSale(pools: Map<ChannelType, Pool>, emulators: EmulatorSet, t: BenchTenant, sale: Sale, direct: boolean): Promise<void> {
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

/** The writes each channel receives, per (account, external id), in arrival order, until stop(). */
export function recordWrites(emulators: EmulatorSet, types: readonly ChannelType[]): { writes: Map<string, WriteRecord[]>; stop(): void } {
  const writes = new Map<string, WriteRecord[]>();
  const onWrite = (w: WriteRecord) => {
    const k = `${w.accountId}|${w.externalId}`;
    const list = writes.get(k);
    if (list) list.push(w);
    else writes.set(k, [w]);
  };
  for (const ty of types) emulators[ty].events.on('write', onWrite);
  return { writes, stop: () => types.forEach((ty) => emulators[ty].events.off('write', onWrite)) };
}

export interface Quiet {
  ok: boolean;
  waitedMs: number;
  last: Record<string, number>;
}

/** Waits until no webhook is in flight, every event is applied, no listing is dirty and no sync job is queued. */
export async function quiescence(ctx: AppContext, emulators: EmulatorSet, types: readonly ChannelType[], limitMs: number): Promise<Quiet> {
  const started = Date.now();
  let calm = 0;
  let last: Record<string, number> = {};
  while (Date.now() - started < limitMs) {
    const inflight = (await Promise.race([Promise.all(types.map((ty) => emulators[ty].drain())).then(() => 0), sleep(200).then(() => 1)])) as number;
    const { rows } = await ctx.db.query<{ unapplied: number; dirty: number; jobs: number; waiting: Record<string, number> | null }>(
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

export interface Propagation {
  /** Per successful sale, in `sales` order of the successful ones: its slowest target, in ms. */
  worst: Array<{ sale: Sale; ms: number }>;
  /** Per target channel type: every (sale, target) time. */
  perTarget: Record<string, number[]>;
  unpropagated: number;
  samples: string[];
}

/**
 * Propagation time of each sale: from the moment it was made until every OTHER quantity-holding
 * channel of its tenant received a write with qty <= the ledger value expected right after it
 * (initial - its rank among the item's successful sales). Sales only decrement, so values are
 * monotone and "<=" also credits a write that covers later sales. A target never reached counts as
 * the whole wait (until `endAt`), so it cannot hide in the percentiles.
 */
export function propagationTimes(
  sales: Sale[],
  tenants: BenchTenant[],
  writes: Map<string, WriteRecord[]>,
  o: { initial: number; qtyTypes: ReadonlySet<ChannelType>; endAt: number },
): Propagation {
  const byItem = new Map<string, Sale[]>();
  for (const s of sales) {
    if (!s.ok) continue;
    const k = `${s.tenant}|${s.item}`;
    const list = byItem.get(k);
    if (list) list.push(s);
    else byItem.set(k, [s]);
  }
  const out: Propagation = { worst: [], perTarget: Object.fromEntries([...o.qtyTypes].map((t) => [t, []])), unpropagated: 0, samples: [] };
  for (const [k, list] of byItem) {
    const [ti, ii] = k.split('|').map(Number) as [number, number];
    const t = tenants[ti]!;
    const sku = t.items[ii]!.sku;
    list.sort((a, b) => a.at - b.at);
    list.forEach((s, rank) => {
      const expected = o.initial - (rank + 1);
      let worst = 0;
      for (const ch of t.channels) {
        if (!o.qtyTypes.has(ch.type) || ch.type === s.channel) continue;
        const got = (writes.get(`${ch.accountId}|${ch.externalBySku.get(sku)}`) ?? []).find((w) => w.at >= s.at && w.qty !== null && w.qty <= expected);
        const ms = got ? got.at - s.at : o.endAt - s.at;
        if (!got) {
          out.unpropagated++;
          if (out.samples.length < 3) out.samples.push(`${s.channel} sale of ${sku} -> ${ch.type} (expected <= ${expected})`);
        }
        out.perTarget[ch.type]!.push(ms);
        worst = Math.max(worst, ms);
      }
      out.worst.push({ sale: s, ms: worst });
    });
  }
  return out;
}

export interface LedgerCheck {
  lost: number;
  doubled: number;
  channelsMismatched: number;
  listingsMismatched: number;
  samples: string[];
}

/** The ledger after quiescence against the sales made (lost / doubled units per item), and what each channel holds against the ledger. */
export async function checkLedger(ctx: AppContext, tenants: BenchTenant[], sales: Sale[], initial: number): Promise<LedgerCheck> {
  const { rows: levels } = await ctx.db.query<{ tenant_id: string; item_id: string; on_hand: number; reserved: number }>(
    `select tenant_id, item_id, sum(on_hand)::int as on_hand, sum(reserved)::int as reserved from stock_levels group by 1, 2`,
  );
  const level = new Map(levels.map((r) => [`${r.tenant_id}|${r.item_id}`, r]));
  const out: LedgerCheck = { lost: 0, doubled: 0, channelsMismatched: 0, listingsMismatched: 0, samples: [] };
  const soldBy = new Map<number, Map<number, number>>();
  for (const s of sales) {
    if (!s.ok) continue;
    const m = soldBy.get(s.tenant) ?? new Map<number, number>();
    m.set(s.item, (m.get(s.item) ?? 0) + 1);
    soldBy.set(s.tenant, m);
  }
  for (const t of tenants) {
    const sold = soldBy.get(t.index) ?? new Map<number, number>();
    t.items.forEach((it, i) => {
      const ledger = level.get(`${t.tenantId}|${it.id}`)?.on_hand ?? 0;
      const expected = initial - (sold.get(i) ?? 0);
      out.lost += Math.max(0, ledger - expected);
      out.doubled += Math.max(0, expected - ledger);
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
          if (out.samples.length < 3) out.samples.push(`${ch.type} ${it.sku}: holds ${held?.qty ?? held?.available}, ledger sellable ${sellable}`);
        }
      }
      if (bad) out.channelsMismatched++;
      out.listingsMismatched += bad;
    }
  }
  return out;
}
