// The plans StockClerk is sold on (seed 000): a 14-day trial, Starter (£50/month, 3 shops),
// Growth (£100/month, 10 shops), Enterprise (by enquiry; the shops an operator sets). A shop is a
// connected channel. A plan also sizes the API keys' rate limit (src/http/plugins/rate-limit.ts)
// and the shortest Guardian interval a tenant may choose.
export const PLAN_NAMES = ['trial', 'starter', 'growth', 'enterprise'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];
/** The plans a merchant buys through Stripe Checkout. */
export const PAID_PLANS = ['starter', 'growth'] as const;
export type PaidPlan = (typeof PAID_PLANS)[number];

export interface PlanSpec {
  label: string;
  /** Connected channels allowed; null: as many as an operator sets (enterprise). */
  shops: number | null;
  /** Pence per month; null: by enquiry or free. */
  monthlyPence: number | null;
  api: { burst: number; perSecond: number };
  guardianMinS: number;
  /** Usage a month of the plan includes (GET /usage shows it beside what was used). */
  quota: UsageQuota;
}

/** Per calendar month (UTC): API calls, listing updates pushed to channels, channel webhooks accepted. */
export interface UsageQuota {
  api_calls: number;
  pushes: number;
  webhooks: number;
}

// Monthly quotas: the product's choice (seed 004), shown to merchants and operators. The pushes
// quota is a budget (src/engine/push-budget.ts): past it a tenant's channels are pushed at most
// once per gap, coalesced, never refused; API calls and webhooks past theirs are not slowed. Sized from a busy shop: ~500 sales a day on 3 channels is ~15,000 webhooks and ~30,000
// pushes a month; a dashboard left open on the Overview makes ~11,500 API calls a day (it polls,
// and sessions count like keys: src/services/usage.ts), ~350,000 a month. Each step up gives
// about 5x room; Enterprise is a default an agreement would replace.
export const PLANS: Record<PlanName, PlanSpec> = {
  trial: {
    label: 'Trial',
    shops: 3,
    monthlyPence: null,
    api: { burst: 20, perSecond: 2 },
    guardianMinS: 300,
    quota: { api_calls: 250_000, pushes: 50_000, webhooks: 50_000 },
  },
  starter: {
    label: 'Starter',
    shops: 3,
    monthlyPence: 5_000,
    api: { burst: 200, perSecond: 20 },
    guardianMinS: 300,
    quota: { api_calls: 1_000_000, pushes: 250_000, webhooks: 250_000 },
  },
  growth: {
    label: 'Growth',
    shops: 10,
    monthlyPence: 10_000,
    api: { burst: 500, perSecond: 50 },
    guardianMinS: 120,
    quota: { api_calls: 5_000_000, pushes: 1_500_000, webhooks: 1_500_000 },
  },
  enterprise: {
    label: 'Enterprise',
    shops: null,
    monthlyPence: null,
    api: { burst: 1_000, perSecond: 100 },
    guardianMinS: 60,
    quota: { api_calls: 50_000_000, pushes: 15_000_000, webhooks: 15_000_000 },
  },
};

export const TRIAL_DAYS = 14;

/** The currency every price is in (the plans are sold in pounds sterling). */
export const PLAN_CURRENCY = 'GBP';

/**
 * A plan's price as the landing page and the billing page show it, from the same numbers billing
 * uses: "£50 / month", "Free for 14 days", "By enquiry". Written once here so a price change is
 * one edit.
 */
export function displayPrice(plan: PlanName): string {
  const { monthlyPence } = PLANS[plan];
  if (plan === 'trial') return `Free for ${TRIAL_DAYS} days`;
  if (monthlyPence === null) return 'By enquiry';
  const pounds = monthlyPence / 100;
  return `£${Number.isInteger(pounds) ? pounds : pounds.toFixed(2)} / month`;
}

export const isPlan = (p: string): p is PlanName => (PLAN_NAMES as readonly string[]).includes(p);
export const planOf = (p: string): PlanSpec => (isPlan(p) ? PLANS[p] : PLANS.trial);

/** The shops a tenant may connect: an operator's number for enterprise, else its plan's. */
export function shopLimit(plan: string, override: number | null): number | null {
  return override ?? planOf(plan).shops;
}

/** The smallest plan that allows `shops` connected channels (what a refusal suggests). */
export function planFor(shops: number): PlanName {
  return PAID_PLANS.find((p) => (PLANS[p].shops ?? Infinity) >= shops) ?? 'enterprise';
}
