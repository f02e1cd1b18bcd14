// A tenant's plan and its standing (src/domain/plans.ts): what it may connect, whether its pushes
// run, and the Stripe state that decides both. The rules:
// - A shop is a channel that is not paused; connecting or resuming one beyond the plan's shops is
//   403 `plan_limit`, naming the plan that would allow it. The tenant row is locked while counting,
//   so two concurrent connects cannot both take the last shop.
// - A trial lapses at its end; a paid plan lapses when a renewal fails or the subscription ends
//   (`lapsed_at`). After the grace period (BILLING_GRACE_DAYS, 7; config.billingGraceS) the tenant's pushes and Guardian
//   runs wait (their jobs carry a flag the workers skip: src/engine/pause.ts); sales keep coming in
//   and moving the ledger, so nothing is lost, and paying lets the waiting jobs run.
// - Stripe is the truth for paid plans: its webhooks are recorded once per event id and the
//   subscription is then read back from Stripe and applied (src/engine/billing.ts), so events that
//   arrive late or out of order cannot leave a stale status behind.
import { AppError } from '../domain/errors.ts';
import { guardianJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import { isPlan, planFor, planOf, PLANS, shopLimit, type PlanName } from '../domain/plans.ts';
import { audit } from './audit-log.ts';
import type { Q, Scope } from './scope.ts';

export const BILLING_STATUSES = ['trialing', 'active', 'past_due', 'canceled'] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];

export interface Billing {
  plan: PlanName;
  status: BillingStatus;
  trial_ends_at: Date;
  shop_limit: number | null;
  shops_used: number;
  /** When the plan lapsed (trial over, renewal failed, cancelled); null while in good standing. */
  lapsed_at: Date | null;
  /** When pushes stop (or stopped) unless paid; null while in good standing. */
  grace_ends_at: Date | null;
  /** Pushes are waiting: the grace period is over. */
  pushes_paused: boolean;
  /** An operator paused all of the tenant's sync. */
  sync_paused: boolean;
  has_subscription: boolean;
}

/** When a tenant's standing lapsed, in SQL over `t` (a tenants row): a trial at its end, a paid plan at `lapsed_at`. */
export const LAPSED_SQL = `(case when t.billing_status = 'trialing' then t.trial_ends_at else t.lapsed_at end)`;
/** Whether a tenant's pushes wait for payment, with `$grace` the grace period in seconds. */
export const pushesPausedSql = (grace: string) => `coalesce(${LAPSED_SQL} + make_interval(secs => ${grace}) <= now(), false)`;

export async function getBilling(q: Q, tenantId: string, graceS: number): Promise<Billing> {
  const { rows } = await q.query(
    `select t.plan, t.billing_status as status, t.trial_ends_at, t.shop_limit as override,
            (select count(*)::int from channels c where c.tenant_id = t.id and c.status <> 'paused') as shops_used,
            case when ${LAPSED_SQL} <= now() then ${LAPSED_SQL} end as lapsed_at,
            case when ${LAPSED_SQL} <= now() + make_interval(secs => $2) then ${LAPSED_SQL} + make_interval(secs => $2) end as grace_ends_at,
            ${pushesPausedSql('$2')} as pushes_paused, t.sync_paused_at is not null as sync_paused,
            t.stripe_subscription_id is not null as has_subscription
     from tenants t where t.id = $1`,
    [tenantId, graceS],
  );
  const r = rows[0];
  if (!r) throw new AppError(404, 'not_found', 'Tenant not found');
  return {
    plan: isPlan(r.plan) ? r.plan : 'trial',
    status: r.status,
    trial_ends_at: r.trial_ends_at,
    shop_limit: shopLimit(r.plan, r.override),
    shops_used: r.shops_used,
    lapsed_at: r.lapsed_at,
    grace_ends_at: r.status === 'active' ? null : r.grace_ends_at,
    pushes_paused: r.pushes_paused,
    sync_paused: r.sync_paused,
    has_subscription: r.has_subscription,
  };
}

/**
 * Before a channel is connected or resumed: 403 plan_limit when the plan's shops are all used.
 * Locks the tenant row: the count and the insert that follows are one decision.
 */
export async function assertShopAvailable(tx: Q, tenantId: string): Promise<void> {
  const { rows } = await tx.query<{ plan: string; shop_limit: number | null; used: number }>(
    `select t.plan, t.shop_limit, (select count(*)::int from channels c where c.tenant_id = t.id and c.status <> 'paused') as used
     from tenants t where t.id = $1 for update`,
    [tenantId],
  );
  const t = rows[0];
  if (!t) return;
  const limit = shopLimit(t.plan, t.shop_limit);
  if (limit === null || t.used < limit) return;
  const next = planFor(t.used + 1);
  const plan = planOf(t.plan);
  throw new AppError(
    403,
    'plan_limit',
    `Your ${plan.label} plan includes ${limit} shop${limit === 1 ? '' : 's'}, and ${t.used} ${t.used === 1 ? 'is' : 'are'} connected. ` +
      (next === 'enterprise' ? 'Contact us about Enterprise for more.' : `Upgrade to ${PLANS[next].label} (${PLANS[next].shops} shops), or pause a channel.`),
    { plan: t.plan, shop_limit: limit, shops_used: t.used, upgrade_to: next },
  );
}

/** The smallest Guardian interval the tenant's plan allows (403 plan_limit below it). */
export async function assertGuardianInterval(q: Q, tenantId: string, seconds: number): Promise<void> {
  const { rows } = await q.query<{ plan: string }>(`select plan from tenants where id = $1`, [tenantId]);
  const plan = planOf(rows[0]?.plan ?? 'trial');
  if (seconds >= plan.guardianMinS) return;
  const better = (Object.keys(PLANS) as PlanName[]).find((p) => PLANS[p].guardianMinS <= seconds);
  throw new AppError(403, 'plan_limit', `Your ${plan.label} plan runs the Guardian at most every ${plan.guardianMinS} s`, {
    guardian_min_s: plan.guardianMinS,
    upgrade_to: better ?? 'enterprise',
  });
}

/** What Stripe says of a tenant's subscription (read back after each event). */
export interface SubscriptionState {
  subscriptionId: string | null;
  /** Stripe's status: active, trialing, past_due, unpaid, canceled, incomplete ... */
  status: string | null;
  plan: PlanName | null;
}

/**
 * Applies Stripe's view of the tenant's subscription. Paid and current -> `active` on its plan;
 * past_due or unpaid -> `past_due` (lapsed from now, unless already); none or ended -> `canceled`
 * on the plan it had. A return to good standing queues a Guardian run, which reconciles what the
 * paused pushes left behind (the pushes themselves run as soon as the flag is gone).
 */
export async function applySubscription(tx: Q, scope: Scope, s: SubscriptionState): Promise<void> {
  const { rows } = await tx.query<{ plan: string; billing_status: string; lapsed: boolean }>(
    `select plan, billing_status, ${pushesPausedSql('0')} as lapsed from tenants t where id = $1 for update`,
    [scope.tenantId],
  );
  const before = rows[0];
  if (!before) return;
  if (before.plan === 'enterprise' && !s.subscriptionId) return; // set by an operator, not Stripe
  const good = s.status === 'active' || s.status === 'trialing';
  const status: BillingStatus = good ? 'active' : s.status === 'past_due' || s.status === 'unpaid' ? 'past_due' : 'canceled';
  const plan = s.plan ?? before.plan;
  await tx.query(
    `update tenants set plan = $2, billing_status = $3, stripe_subscription_id = coalesce($4, stripe_subscription_id),
       lapsed_at = case when $3 = 'active' then null else coalesce(lapsed_at, now()) end
     where id = $1`,
    [scope.tenantId, plan, status, s.subscriptionId],
  );
  if (before.plan !== plan || before.billing_status !== status) {
    await audit(
      tx,
      scope,
      'billing.changed',
      { type: 'tenant', id: scope.tenantId },
      { from: { plan: before.plan, status: before.billing_status }, to: { plan, status } },
    );
  }
  if (status === 'active' && before.lapsed) await addJobs(tx, [guardianJob(scope.tenantId)]);
}

/** An operator sets a tenant's plan (Enterprise, or a correction), with an optional shop limit. */
export async function setPlan(tx: Q, scope: Scope, plan: PlanName, shops: number | null): Promise<void> {
  const { rowCount } = await tx.query(
    `update tenants set plan = $2, shop_limit = $3, billing_status = case when $2 = 'enterprise' then 'active' else billing_status end,
       lapsed_at = case when $2 = 'enterprise' then null else lapsed_at end where id = $1`,
    [scope.tenantId, plan, shops],
  );
  if (!rowCount) throw new AppError(404, 'not_found', 'Tenant not found');
  await audit(tx, scope, 'billing.plan_set', { type: 'tenant', id: scope.tenantId }, { plan, shop_limit: shops });
}
