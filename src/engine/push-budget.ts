// The monthly push budget (issue 16, point 3; quotas in src/domain/plans.ts). A tenant past its
// plan's pushes for the month keeps syncing: refusing pushes would let its channels oversell, the
// one thing StockClerk is for. Its pushes are coalesced instead: each of its channels is pushed at
// most once every `overBudgetPushGapMs` (every change in between goes out with the next push, as
// absolute quantities do), so a flood costs one push per channel per gap rather than one per change,
// and other tenants' work is not crowded out. The tenant is told by a warning alert, once a month.
// Usage counts reach the database every few seconds (src/services/usage.ts), so the budget takes
// hold a few seconds after it is spent; the set of tenants over it is read at most every 10 s.
import { named, withTx, type Db } from '../db/pool.ts';
import { PLAN_NAMES, PLANS } from '../domain/plans.ts';
import { raiseAlert, resolveAlerts } from '../services/alerts.ts';
import type { Logger } from '../log.ts';

const REFRESH_MS = 10_000;

/** $1: [{plan, pushes}]. Tenants whose pushes this month (UTC) reached their plan's. */
const OVER_SQL = `with quota as (select * from jsonb_to_recordset($1::jsonb) as q(plan text, pushes bigint)),
  used as (select tenant_id, sum(pushes)::bigint as pushes from usage_daily
           where day >= date_trunc('month', now() at time zone 'utc')::date group by tenant_id)
  select t.id, used.pushes::float8 as used, quota.pushes::float8 as quota
  from used join tenants t on t.id = used.tenant_id join quota on quota.plan = t.plan
  where used.pushes >= quota.pushes`;

const QUOTAS = JSON.stringify(PLAN_NAMES.map((plan) => ({ plan, pushes: PLANS[plan].quota.pushes })));

export class PushBudget {
  private over = new Set<string>();
  private readAt = 0;
  private reading: Promise<void> | null = null;
  /** When this process last let a push of an over-budget tenant's channel go. */
  private lastPush = new Map<string, number>();
  private readonly db: Db;
  private readonly gapMs: () => number;
  private readonly log: Logger;

  constructor(db: Db, gapMs: () => number, log: Logger) {
    this.db = db;
    this.gapMs = gapMs;
    this.log = log;
  }

  /** How long a push of this channel should wait (0: now). Never throws: a failed read keeps the last answer. */
  async delayMs(tenantId: string, channelId: string): Promise<number> {
    if (Date.now() - this.readAt >= REFRESH_MS) await (this.reading ??= this.refresh().finally(() => (this.reading = null)));
    if (!this.over.has(tenantId)) return 0;
    const now = Date.now();
    const wait = (this.lastPush.get(channelId) ?? 0) + this.gapMs() - now;
    if (wait > 0) return wait;
    this.lastPush.set(channelId, now);
    return 0;
  }

  private async refresh(): Promise<void> {
    try {
      const { rows } = await this.db.query<{ id: string; used: number; quota: number }>(named('push_budget_over', OVER_SQL, [QUOTAS]));
      const now = new Set(rows.map((r) => r.id));
      const month = new Date().toISOString().slice(0, 7);
      const gapS = Math.round(this.gapMs() / 1000);
      // Tell each tenant once a month (the alert is de-duplicated while open), and clear it when
      // the tenant is back under (a new month, a bigger plan).
      for (const r of rows.filter((x) => !this.over.has(x.id))) {
        await withTx(this.db, (tx) =>
          raiseAlert(tx, r.id, {
            type: 'push_budget_exceeded',
            subject: month,
            severity: 'warning',
            message: `This month's pushes (${r.used}) reached the plan's ${r.quota}. Stock still syncs: each channel is now pushed at most once every ${gapS} s until the month ends or the plan changes.`,
            data: { month, pushes: r.used, quota: r.quota, push_gap_s: gapS },
          }),
        );
      }
      for (const id of [...this.over].filter((x) => !now.has(x))) await withTx(this.db, (tx) => resolveAlerts(tx, id, 'push_budget_exceeded', [month]));
      this.over = now;
      this.readAt = Date.now();
    } catch (err) {
      // The database is away or busy: keep the last answer and look again at the next push.
      this.log.warn({ err }, 'reading the tenants over their push budget failed');
      this.readAt = Date.now() - REFRESH_MS + 1_000;
    }
  }
}
