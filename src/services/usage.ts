// Usage metering (seed 004): API calls, pushes and webhooks per tenant per UTC day, in
// `usage_daily`, kept for good (one small row per tenant per day).
//
// Counting must not add a database write to a request or a push, so each process counts in
// memory (`UsageMeter.count`: a map lookup and an add) and writes everything it counted in ONE
// statement every few seconds (`flush`: a multi-row upsert that adds to the stored counters) and
// once more when the process stops cleanly (src/server.ts stops the meter after the HTTP server
// and the workers, before the pool). Trade-off, on purpose: a crash (kill -9, power loss) loses
// what was counted since the last flush, i.e. at most the flush interval's worth (5 s by default);
// a clean stop loses nothing. A flush that fails (database down) puts its counts back to be
// written by the next one.
//
// What counts:
// - api_calls: every /api/v1 request that authenticated (src/http/plugins/auth.ts, requireAuth),
//   attributed to the tenant it acts on: sessions (the dashboard) and keys alike, since both are
//   work the tenant asked for (and the dashboard is a client of the public API like any other).
//   Counted once the credential is known, before scope and rate checks: a refused call was still a
//   call. Login, refresh and the live stream's socket are not behind requireAuth and are not counted.
// - pushes: each listing update a channel took in a sync push (src/engine/sync.ts), or refused on
//   compare-and-set (it was sent): a batch of 50 listings is 50. Not counted: a listing the adapter
//   found already right and skipped (PushResult.unchanged), a failed one (it is retried and counted
//   when it lands), a call that failed as a whole (network, 429, auth).
// - webhooks: each inbound channel webhook verified, parsed and recorded (200), duplicates included
//   (the platform sent it and we did the work); refused ones (401/400/404) are not.
import type { Db } from '../db/pool.ts';
import { planOf, type UsageQuota } from '../domain/plans.ts';
import { AppError } from '../domain/errors.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q } from './scope.ts';

export type UsageCounter = 'api_calls' | 'pushes' | 'webhooks';
export const USAGE_COUNTERS: readonly UsageCounter[] = ['api_calls', 'pushes', 'webhooks'];
type Counts = Record<UsageCounter, number>;

const DAY_MS = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

// One statement for every (tenant, day) counted since the last flush. Rows of a tenant that no
// longer exists are dropped (else one foreign-key error would refuse the whole batch, every time).
// It runs on the system path (ctx.db), not in a tenant transaction: like intake's group commit it
// writes several tenants' rows at once, and every value comes from this process's own counters.
const FLUSH_SQL = `insert into usage_daily (tenant_id, day, api_calls, pushes, webhooks)
  select u.tenant_id, u.day, u.api_calls, u.pushes, u.webhooks
  from unnest($1::text[], $2::date[], $3::int[], $4::int[], $5::int[]) as u(tenant_id, day, api_calls, pushes, webhooks)
  where exists (select 1 from tenants t where t.id = u.tenant_id)
  on conflict (tenant_id, day) do update set
    api_calls = usage_daily.api_calls + excluded.api_calls,
    pushes = usage_daily.pushes + excluded.pushes,
    webhooks = usage_daily.webhooks + excluded.webhooks`;

/** This process's counters since the last flush, and the timer that flushes them. */
export class UsageMeter {
  /** day -> tenant -> counts; nested so that counting builds no string. */
  private pending = new Map<string, Map<string, Counts>>();
  private day = '';
  private dayEnds = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  private readonly db: Db;
  private readonly now: () => number;

  /** `now` is for tests that count across midnight. */
  constructor(db: Db, now: () => number = Date.now) {
    this.db = db;
    this.now = now;
  }

  /** Adds `n` to a tenant's counter for today (UTC). No I/O. */
  count(tenantId: string, counter: UsageCounter, n = 1): void {
    if (n <= 0) return;
    const t = this.now();
    if (t >= this.dayEnds) {
      this.day = utcDay(t);
      this.dayEnds = (Math.floor(t / DAY_MS) + 1) * DAY_MS;
    }
    let tenants = this.pending.get(this.day);
    if (!tenants) this.pending.set(this.day, (tenants = new Map()));
    let c = tenants.get(tenantId);
    if (!c) tenants.set(tenantId, (c = { api_calls: 0, pushes: 0, webhooks: 0 }));
    c[counter] += n;
  }

  /** Writes everything counted so far in one statement; concurrent calls run one after the other. */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.write());
    // The chain must survive a failed flush (its counts are back in `pending`).
    this.flushing = run.catch(() => {});
    return run;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const cols: [string[], string[], number[], number[], number[]] = [[], [], [], [], []];
    for (const [day, tenants] of batch) {
      for (const [tenantId, c] of tenants) {
        cols[0].push(tenantId);
        cols[1].push(day);
        cols[2].push(c.api_calls);
        cols[3].push(c.pushes);
        cols[4].push(c.webhooks);
      }
    }
    try {
      await this.db.query(FLUSH_SQL, cols);
    } catch (err) {
      for (const [day, tenants] of batch) for (const [tenantId, c] of tenants) for (const k of USAGE_COUNTERS) this.addAt(day, tenantId, k, c[k]);
      throw err;
    }
  }

  private addAt(day: string, tenantId: string, counter: UsageCounter, n: number): void {
    if (n <= 0) return;
    let tenants = this.pending.get(day);
    if (!tenants) this.pending.set(day, (tenants = new Map()));
    let c = tenants.get(tenantId);
    if (!c) tenants.set(tenantId, (c = { api_calls: 0, pushes: 0, webhooks: 0 }));
    c[counter] += n;
  }

  /** Flushes every `intervalMs` until stopped; a failed flush is reported and retried by the next. */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush().catch(onError), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left (a clean stop loses no count). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}

// ---- Reading it back: a tenant's month, and every tenant's month for operators. ----

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface MonthSpan {
  month: string;
  /** First day of the month and first day of the next, YYYY-MM-DD (UTC). */
  from: string;
  until: string;
  days: number;
  /**
   * Days of the month gone by at `now`, today counted by the fraction of it elapsed (0 before
   * the month, `days` after it). The projection divides by this.
   */
  elapsed: number;
}

export const currentMonth = (now: number) => utcDay(now).slice(0, 7);

export function monthSpan(month: string, now: number): MonthSpan {
  const m = MONTH.exec(month);
  if (!m) throw new AppError(400, 'validation_failed', 'month must be YYYY-MM', [{ path: 'month', message: 'must be YYYY-MM' }]);
  const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
  const end = Date.UTC(Number(m[1]), Number(m[2]), 1);
  const days = Math.round((end - start) / DAY_MS);
  const elapsed = Math.min(days, Math.max(0, (now - start) / DAY_MS));
  return { month, from: utcDay(start), until: utcDay(end), days, elapsed };
}

/**
 * Projected month-end usage: the daily average over the days elapsed so far (today counted by
 * the fraction of it gone) times the days in the month. So a month half gone with 1,000 calls
 * projects 2,000; a finished month projects what it used. Until a whole day has passed the
 * average is taken over one day: a first hour's 100 calls project 3,100 over 31 days, not
 * 74,400. A month not yet begun projects 0.
 */
export function project(used: number, span: MonthSpan): number {
  if (span.elapsed <= 0) return 0;
  if (span.elapsed >= span.days) return used;
  return Math.round((used / Math.max(1, span.elapsed)) * span.days);
}

const percentOf = (used: number, quota: number) => (quota > 0 ? Math.round((used / quota) * 1000) / 10 : 0);

const zero = (): Counts => ({ api_calls: 0, pushes: 0, webhooks: 0 });
const each = (f: (k: UsageCounter) => number): Counts => ({ api_calls: f('api_calls'), pushes: f('pushes'), webhooks: f('webhooks') });

export interface TenantUsage {
  month: string;
  plan: string;
  days: Array<{ day: string } & Counts>;
  totals: Counts;
  quota: UsageQuota;
  projected: Counts;
  /** Totals as a percentage of the quota (one decimal). */
  percent_of_quota: Counts;
  days_in_month: number;
  days_elapsed: number;
}

/** One tenant's month: every day (zeros where nothing was counted), totals, quota and projection. */
export async function tenantUsage(q: Q, tenantId: string, month: string, now: number): Promise<TenantUsage> {
  const span = monthSpan(month, now);
  const { rows } = await q.query<{ plan: string; day: string | null; api_calls: number; pushes: number; webhooks: number }>(
    `select t.plan, to_char(u.day, 'YYYY-MM-DD') as day, coalesce(u.api_calls, 0) as api_calls, coalesce(u.pushes, 0) as pushes,
            coalesce(u.webhooks, 0) as webhooks
     from tenants t left join usage_daily u on u.tenant_id = t.id and u.day >= $2::date and u.day < $3::date
     where t.id = $1 order by u.day`,
    [tenantId, span.from, span.until],
  );
  const byDay = new Map(rows.filter((r) => r.day !== null).map((r) => [r.day!, r]));
  const days = Array.from({ length: span.days }, (_, i) => {
    const day = utcDay(Date.parse(span.from) + i * DAY_MS);
    const r = byDay.get(day);
    return { day, api_calls: r?.api_calls ?? 0, pushes: r?.pushes ?? 0, webhooks: r?.webhooks ?? 0 };
  });
  const totals = zero();
  for (const d of days) for (const k of USAGE_COUNTERS) totals[k] += d[k];
  const plan = rows[0]?.plan ?? 'trial';
  const quota = planOf(plan).quota;
  return {
    month,
    plan,
    days,
    totals,
    quota,
    projected: each((k) => project(totals[k], span)),
    percent_of_quota: each((k) => percentOf(totals[k], quota[k])),
    days_in_month: span.days,
    days_elapsed: Math.round(span.elapsed * 1000) / 1000,
  };
}

export type AdminUsageSort = 'share' | 'tenant';

/**
 * Every tenant's month for operators, tenants with no usage included. `share` is the highest of
 * the three totals as a fraction of its quota (in millionths, so the sort and the cursor are exact
 * integers); sorted by it, highest first, or by tenant id (newest first). Since one month's
 * projection multiplies every tenant's totals by the same factor, ordering by share also orders by
 * projected share.
 */
export async function allTenantsUsage(q: Q, month: string, now: number, sort: AdminUsageSort, p: PageRequest) {
  const span = monthSpan(month, now);
  const quotas = ['trial', 'starter', 'growth', 'enterprise'].map((plan) => ({ plan, ...planOf(plan).quota }));
  const trial = planOf('trial').quota;
  // Cursor: "<share>:<tenant id>" when sorted by share, the tenant id when sorted by tenant.
  let afterShare: number | null = null;
  let afterId: string | null = null;
  if (p.after !== null) {
    if (sort === 'share') {
      const m = /^(\d{1,15}):(.+)$/.exec(String(p.after));
      if (!m) throw new AppError(400, 'validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'unreadable cursor' }]);
      afterShare = Number(m[1]);
      afterId = m[2]!;
    } else afterId = String(p.after);
  }
  const { rows } = await q.query<{
    tenant_id: string;
    name: string;
    plan: string;
    // bigint columns: pg hands them over as strings.
    api_calls: string;
    pushes: string;
    webhooks: string;
    q_api_calls: string;
    q_pushes: string;
    q_webhooks: string;
    share: string;
  }>(
    `with u as (
       select tenant_id, sum(api_calls)::bigint as api_calls, sum(pushes)::bigint as pushes, sum(webhooks)::bigint as webhooks
       from usage_daily where day >= $1::date and day < $2::date group by tenant_id
     ), quota as (
       select * from jsonb_to_recordset($3::jsonb) as x(plan text, api_calls bigint, pushes bigint, webhooks bigint)
     ), rows as (
       select t.id as tenant_id, t.name, t.plan,
              coalesce(u.api_calls, 0)::bigint as api_calls, coalesce(u.pushes, 0)::bigint as pushes, coalesce(u.webhooks, 0)::bigint as webhooks,
              coalesce(qt.api_calls, $4) as q_api_calls, coalesce(qt.pushes, $5) as q_pushes, coalesce(qt.webhooks, $6) as q_webhooks
       from tenants t left join u on u.tenant_id = t.id left join quota qt on qt.plan = t.plan
     ), shared as (
       select r.*, greatest(r.api_calls * 1000000 / greatest(r.q_api_calls, 1), r.pushes * 1000000 / greatest(r.q_pushes, 1),
                            r.webhooks * 1000000 / greatest(r.q_webhooks, 1))::bigint as share
       from rows r
     )
     select * from shared
     where case when $7::text = 'share' then ($8::bigint is null or (share, tenant_id) < ($8::bigint, $9::text))
                else ($9::text is null or tenant_id < $9::text) end
     order by case when $7::text = 'share' then share end desc, tenant_id desc
     limit $10`,
    [span.from, span.until, JSON.stringify(quotas), trial.api_calls, trial.pushes, trial.webhooks, sort, afterShare, afterId, p.limit + 1],
  );
  const data = rows.map((r) => {
    const totals = { api_calls: Number(r.api_calls), pushes: Number(r.pushes), webhooks: Number(r.webhooks) };
    const quota = { api_calls: Number(r.q_api_calls), pushes: Number(r.q_pushes), webhooks: Number(r.q_webhooks) };
    const share = Number(r.share);
    return {
      tenant_id: r.tenant_id,
      name: r.name,
      plan: r.plan,
      totals,
      quota,
      projected: each((k) => project(totals[k], span)),
      percent_of_quota: each((k) => percentOf(totals[k], quota[k])),
      /** The highest of the three percentages: how close the tenant is to a quota. */
      share_percent: Math.round(share / 1000) / 10,
      cursor_key: `${share}:${r.tenant_id}`,
    };
  });
  const out = page(data, p.limit, (r) => (sort === 'share' ? r.cursor_key : r.tenant_id));
  return { month, data: out.data.map(({ cursor_key: _k, ...r }) => r), next_cursor: out.next_cursor };
}
