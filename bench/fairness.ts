// `bench fairness [--tenants 10 --per-tenant 5 --noisy 20 --duration 20]`: does one tenant's flood
// slow the others? Two `bench load` runs on fresh databases, one after the other: every tenant
// selling `per-tenant` sales/s, then the same with tenant 0 selling `noisy` times that. The others'
// propagation p99 in each run, and their ratio (target: <= 2 at 20x, issue 16 point 3).
// Last stdout line (interface for outside checks): {quiet_p99_ms_alone, quiet_p99_ms_with_noisy, ratio, noisy_factor}.
import { benchLoad, type LoadOptions } from './load.ts';
import { progress } from './env.ts';

export interface FairnessOptions {
  tenants: number;
  perTenant: number;
  noisy: number;
  duration: number;
  api: number;
  workers: number;
}

export async function benchFairness(o: FairnessOptions): Promise<Record<string, unknown>> {
  const base: Omit<LoadOptions, 'rate' | 'noisy'> = {
    tenants: o.tenants,
    duration: o.duration,
    api: o.api,
    workers: o.workers,
    items: 20,
    settleS: 60,
    report: null,
  };
  progress(`fairness 1/2: ${o.tenants} tenants at ${o.perTenant} sales/s each`);
  const alone = await benchLoad({ ...base, rate: o.tenants * o.perTenant, noisy: 1 });
  progress(`fairness 2/2: the same, tenant 0 at ${o.noisy}x (${o.noisy * o.perTenant} sales/s)`);
  const noisy = await benchLoad({ ...base, rate: (o.tenants - 1 + o.noisy) * o.perTenant, noisy: o.noisy });
  const a = alone.others_p99_ms as number;
  const b = noisy.others_p99_ms as number;
  const run = (r: Record<string, unknown>) => ({
    rate: r.rate,
    sales: r.sales,
    others_p50_ms: r.others_p50_ms,
    others_p99_ms: r.others_p99_ms,
    tenant0_p99_ms: r.tenant0_p99_ms,
    lost: r.lost,
    double_applied: r.double_applied,
    cpu_ms_per_sale: r.cpu_ms_per_sale,
    pg_cpu_ms_per_sale: r.pg_cpu_ms_per_sale,
    queue_lag_ms_max: r.queue_lag_ms_max,
    report: r.report,
  });
  return {
    quiet_p99_ms_alone: a,
    quiet_p99_ms_with_noisy: b,
    ratio: Math.round((b / a) * 100) / 100,
    noisy_factor: o.noisy,
    tenants: o.tenants,
    per_tenant_rate: o.perTenant,
    duration_s: o.duration,
    alone: run(alone),
    with_noisy: run(noisy),
  };
}
