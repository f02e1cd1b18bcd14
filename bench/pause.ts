// `bench pause --tenants N --rate R --phase S`: an operator's pause of one tenant under traffic
// (issue 12). N tenants, each with an Epos Now till and a Wix store (emulated, connected as a
// merchant connects them). Sales at R/s on the tills, spread evenly over all tenants, in three
// phases of S seconds: before the pause, while tenant 0 is paused (POST /admin/tenants/{id}/pause
// through the API, as an operator does it), and after it is resumed.
//
// It reports, per phase, the other tenants' propagation (till sale -> Wix holds a quantity at or
// below the ledger's value right after that sale) so the pause's effect on them shows; for the
// paused tenant, how soon after the pause its Wix store stopped receiving writes, that its sales
// were still recorded in the ledger, and how long after the resume its store converged.
import { Pool } from 'undici';
import type { WriteRecord } from '../emulators/kit/index.ts';
import { startEmulators } from '../src/demo/emulated.ts';
import { makeSuperAdmin } from '../src/services/operators.ts';
import { progress, sleep, startBenchEnv } from './env.ts';
import { ms1, percentile } from './stats.ts';
import { createBenchTenant, type BenchTenant } from './tenants.ts';

export interface PauseOptions {
  tenants: number;
  rate: number;
  /** Seconds per phase (before, paused, resumed). */
  phase: number;
  items: number;
}

const INITIAL = 50_000;
type Phase = 'before' | 'paused' | 'resumed';

interface Sale {
  tenant: number;
  item: number;
  at: number;
  phase: Phase;
  ok: boolean;
}

export async function benchPause(o: PauseOptions): Promise<Record<string, unknown>> {
  const env = await startBenchEnv({ productProcess: true });
  const emulators = await startEmulators();
  const till = new Pool(emulators.eposnow.url, { connections: 16 });
  try {
    const ctx = env.sc.ctx;
    const base = env.sc.url!;
    const tenants: BenchTenant[] = [];
    for (let i = 0; i < o.tenants; i++) {
      tenants.push(await createBenchTenant(ctx, base, emulators, { index: i, items: o.items, qty: INITIAL, types: ['eposnow', 'wix'] }));
    }
    await ctx.db.query(`update tenants set plan = 'enterprise', billing_status = 'active'`);
    const email = `bench-ops-${Date.now()}@stockclerk.example`;
    await makeSuperAdmin(ctx.db, email, 'bench-operator-1');
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'bench-operator-1' }),
    });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const operator = (path: string, body: unknown) =>
      fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const paused = tenants[0]!;
    const wixOf = (t: BenchTenant) => t.channels.find((c) => c.type === 'wix')!;
    const tillOf = (t: BenchTenant) => t.channels.find((c) => c.type === 'eposnow')!;
    progress(`${o.tenants} tenants x (Epos Now, Wix) x ${o.items} items connected`);

    const writes = new Map<string, WriteRecord[]>();
    const onWrite = (w: WriteRecord) => {
      const k = `${w.accountId}|${w.externalId}`;
      (writes.get(k) ?? writes.set(k, []).get(k)!).push(w);
    };
    emulators.wix.events.on('write', onWrite);

    const sales: Sale[] = [];
    const inflight: Promise<void>[] = [];
    const sell = async (s: Sale) => {
      const t = tenants[s.tenant]!;
      const res = await till
        .request({
          path: `/_control/accounts/${encodeURIComponent(tillOf(t).accountId)}/sale`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sku: t.items[s.item]!.sku, qty: 1 }),
        })
        .catch(() => null);
      s.ok = res?.statusCode === 200;
      await res?.body.dump();
    };
    const runPhase = async (phase: Phase) => {
      const total = Math.round(o.rate * o.phase);
      const start = Date.now();
      for (let i = 0; i < total;) {
        const due = Math.min(total, Math.floor(((Date.now() - start) * o.rate) / 1000) + 1);
        for (; i < due; i++) {
          const s: Sale = { tenant: sales.length % o.tenants, item: Math.floor(Math.random() * o.items), at: Date.now(), phase, ok: false };
          sales.push(s);
          inflight.push(sell(s));
        }
        await sleep(2);
      }
      progress(`${phase}: ${total} sales in ${((Date.now() - start) / 1000).toFixed(1)} s`);
    };

    await runPhase('before');
    const pauseAt = Date.now();
    const p = await operator(`/admin/tenants/${paused.tenantId}/pause`, { reason: 'bench: runaway tenant' });
    if (p.status !== 204) throw new Error(`pause answered ${p.status}`);
    await runPhase('paused');
    const resumeAt = Date.now();
    const r = await operator(`/admin/tenants/${paused.tenantId}/resume`, {});
    if (r.status !== 204) throw new Error(`resume answered ${r.status}`);
    await runPhase('resumed');
    await Promise.all(inflight);
    const salesEndAt = Date.now();

    // The paused tenant's store converges to the ledger once resumed.
    const level = async () =>
      new Map(
        (
          await ctx.db.query<{ item_id: string; on_hand: number }>(
            `select item_id, sum(on_hand)::int as on_hand from stock_levels where tenant_id = $1 group by 1`,
            [paused.tenantId],
          )
        ).rows.map((x) => [x.item_id, x.on_hand]),
      );
    const wixHolds = () => new Map(emulators.wix.spec.state(emulators.wix.accounts.get(wixOf(paused).accountId)).map((s) => [s.sku, s.qty]));
    let convergedAt: number | null = null;
    for (let i = 0; i < 240 && convergedAt === null; i++) {
      const [l, w] = [await level(), wixHolds()];
      if (paused.items.every((it) => w.get(it.sku) === l.get(it.id))) convergedAt = Date.now();
      else await sleep(250);
    }
    await sleep(2000); // let the other tenants' last pushes land before measuring them
    emulators.wix.events.off('write', onWrite);

    // Propagation for the other tenants, per phase.
    const rank = new Map<string, number>();
    const lat: Record<Phase, number[]> = { before: [], paused: [], resumed: [] };
    let unpropagated = 0;
    for (const s of sales) {
      if (!s.ok) continue;
      const k = `${s.tenant}|${s.item}`;
      const n = (rank.get(k) ?? 0) + 1;
      rank.set(k, n);
      if (s.tenant === 0) continue;
      const t = tenants[s.tenant]!;
      const sku = t.items[s.item]!.sku;
      const got = (writes.get(`${wixOf(t).accountId}|${wixOf(t).externalBySku.get(sku)}`) ?? []).find(
        (w) => w.at >= s.at && w.qty !== null && w.qty <= INITIAL - n,
      );
      if (!got) unpropagated++;
      lat[s.phase].push(got ? got.at - s.at : Date.now() - s.at);
    }
    // The paused tenant's store: writes after the pause, and the last of them.
    const pausedWrites = [...writes.entries()].filter(([k]) => k.startsWith(`${wixOf(paused).accountId}|`)).flatMap(([, v]) => v);
    const during = pausedWrites.filter((w) => w.at > pauseAt && w.at < resumeAt);
    const lastDuring = during.length ? Math.max(...during.map((w) => w.at)) - pauseAt : 0;
    const pausedSales = sales.filter((s) => s.tenant === 0 && s.ok).length;
    const { rows } = await ctx.db.query<{ n: number }>(
      `select coalesce(-sum(qty_delta), 0)::int as n from stock_movements where tenant_id = $1 and reason = 'sale'`,
      [paused.tenantId],
    );
    const pct = (v: number[]) => ({ n: v.length, p50: ms1(percentile(v, 50)), p99: ms1(percentile(v, 99)) });
    const before = pct(lat.before);
    const during99 = pct(lat.paused);
    return {
      tenants: o.tenants,
      rate: o.rate,
      phase_s: o.phase,
      others: { before, paused: during99, resumed: pct(lat.resumed) },
      others_p99_ratio_paused_vs_before: ms1(during99.p99 / before.p99),
      unpropagated,
      paused_tenant: {
        writes_to_its_store_while_paused: during.length,
        last_write_after_pause_ms: ms1(lastDuring),
        sales: pausedSales,
        sales_in_ledger: rows[0]!.n,
        // Sales go on through the resumed phase: convergence is timed from the last one.
        converged_after_last_sale_ms: convergedAt === null ? null : Math.max(0, convergedAt - salesEndAt),
      },
      db: env.db.kind,
    };
  } finally {
    await till.close();
    await emulators.close();
    await env.stop();
  }
}
