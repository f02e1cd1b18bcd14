// The tenant's plan and standing as every page needs it: the query (GET /billing), the banner
// above each page when money needs attention, and the notice a connect refused with plan_limit
// shows. The Billing page itself (pages/Billing.tsx) loads on demand; these are small and shared.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
// The plans' names, shops and prices from the one place the API takes them from (a pure module:
// no I/O, no imports), so the dashboard cannot advertise a price the server does not charge.
import { PLANS, type PlanName } from '../../src/domain/plans.ts';
import { ApiError, api, type Schema } from './api.ts';
import { useCan } from './hooks.ts';

export type Billing = Schema<'Billing'>;
export { PLANS, type PlanName };

/** A trial this close to its end gets the banner. */
export const TRIAL_WARN_DAYS = 7;
const DAY = 86_400_000;
const MAX_WAIT = 5 * 60_000;

/**
 * When to read the standing again: at the grace period's end when that is near (the banner turns
 * from "pushes stop on ..." to "pushes are paused" by itself), else every few minutes.
 */
export function nextBillingCheck(b: Billing | undefined, now = Date.now()): number {
  if (!b?.grace_ends_at || b.pushes_paused) return MAX_WAIT;
  return Math.min(MAX_WAIT, Math.max(1_000, Date.parse(b.grace_ends_at) - now + 1_000));
}

export function useBilling(opts: { poll?: number | false } = {}) {
  return useQuery({
    queryKey: ['billing'],
    queryFn: () => api.get('/billing'),
    staleTime: 30_000,
    refetchInterval: (q) => (opts.poll ? opts.poll : nextBillingCheck(q.state.data)),
  });
}

export const planLabel = (plan: string) => (plan in PLANS ? PLANS[plan as PlanName].label : plan);

/** A moment as merchants read it: the date, and the time (a grace period ends at a time of day). */
export const dateTime = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const dateOnly = (iso: string) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });

export type Standing =
  | { kind: 'ok' }
  | { kind: 'trial_ending'; days: number; at: string }
  | { kind: 'grace'; why: 'past_due' | 'trial_over' | 'canceled'; until: string }
  | { kind: 'paused' };

/** What the banner says of a tenant's standing (the server decides; this only words it). */
export function standingOf(b: Billing, now = Date.now()): Standing {
  if (b.pushes_paused) return { kind: 'paused' };
  if (b.grace_ends_at && b.status !== 'active') {
    const why = b.status === 'past_due' ? 'past_due' : b.status === 'canceled' ? 'canceled' : 'trial_over';
    return { kind: 'grace', why, until: b.grace_ends_at };
  }
  if (b.status === 'trialing') {
    const left = Date.parse(b.trial_ends_at) - now;
    // Days counted by the calendar, so "tomorrow" is the date shown beside it.
    const midnight = (t: number) => new Date(t).setHours(0, 0, 0, 0);
    const days = Math.max(0, Math.round((midnight(Date.parse(b.trial_ends_at)) - midnight(now)) / DAY));
    if (left <= TRIAL_WARN_DAYS * DAY) return { kind: 'trial_ending', days, at: b.trial_ends_at };
  }
  return { kind: 'ok' };
}

const GRACE_WHY = {
  past_due: 'Your last payment failed',
  trial_over: 'Your trial has ended',
  canceled: 'Your subscription has ended',
} as const;

/**
 * Above every page while the plan needs attention: a trial about to end, a failed payment (and
 * when pushes stop), pushes paused. Only the owner can pay, so only the owner gets the button;
 * everyone else is told who can.
 */
export function BillingBanner() {
  const b = useBilling();
  const owner = useCan('owner');
  if (!b.data) return null;
  const s = standingOf(b.data);
  if (s.kind === 'ok') return null;
  const text =
    s.kind === 'paused' ? (
      <>
        <strong>Pushes to your channels are paused until payment; sales are still recorded.</strong> Your channels are not told of stock changes, so they may
        oversell.
      </>
    ) : s.kind === 'grace' ? (
      <>
        <strong>{GRACE_WHY[s.why]}:</strong> pushes to your channels stop on {dateTime(s.until)} unless{' '}
        {s.why === 'past_due' ? "it's paid" : 'you choose a plan'}.
      </>
    ) : (
      <>
        Your free trial ends {s.days === 0 ? 'today' : s.days === 1 ? 'tomorrow' : `in ${s.days} days`} ({dateOnly(s.at)}). Choose a plan to keep your channels
        in sync.
      </>
    );
  const action = s.kind === 'trial_ending' ? 'Choose a plan' : s.kind === 'grace' && s.why === 'past_due' ? 'Pay now' : 'Choose a plan';
  return (
    <p
      className={`card banner ${s.kind === 'trial_ending' ? 'callout' : 'warning'}`}
      role={s.kind === 'trial_ending' ? 'status' : 'alert'}
      data-testid="billing-banner"
      data-kind={s.kind}
    >
      {text}{' '}
      {owner ? (
        <Link href="/billing" className="button primary">
          {action}
        </Link>
      ) : (
        <span className="small">Ask your account owner to {s.kind === 'grace' && s.why === 'past_due' ? 'pay' : 'choose a plan'} in Billing.</span>
      )}
    </p>
  );
}

interface PlanLimitDetails {
  plan: string;
  shop_limit: number;
  shops_used: number;
  upgrade_to: string;
}

/** The details of a 403 plan_limit refusal of a shop, or null for any other error. */
export function planLimitOf(err: unknown): PlanLimitDetails | null {
  if (!(err instanceof ApiError) || err.code !== 'plan_limit') return null;
  const d = err.details as Partial<PlanLimitDetails> | null;
  return d && typeof d.shop_limit === 'number' && typeof d.upgrade_to === 'string' ? (d as PlanLimitDetails) : null;
}

/** In place of a generic error when a channel would go past the plan's shops: the limit, and the way up. */
export function PlanLimitNotice({ limit }: { limit: PlanLimitDetails }) {
  const owner = useCan('owner');
  const next = limit.upgrade_to as PlanName;
  const more = next === 'enterprise' ? 'Enterprise (contact us)' : `${planLabel(next)} (${PLANS[next]?.shops ?? '?'} shops)`;
  return (
    <div className="card warning plan-limit" role="alert" data-testid="plan-limit">
      <p>
        <strong>
          Your {planLabel(limit.plan)} plan includes {limit.shop_limit} shop{limit.shop_limit === 1 ? '' : 's'}, and {limit.shops_used}{' '}
          {limit.shops_used === 1 ? 'is' : 'are'} connected.
        </strong>{' '}
        To connect another, move to {more} or pause a channel.
      </p>
      <Link href="/billing" className={owner ? 'button primary' : ''}>
        {owner ? `Upgrade to ${planLabel(next)}` : 'See plans (your account owner can upgrade)'}
      </Link>
    </div>
  );
}

/** "3 of 10 shops" (a plan without a limit: "3 shops"). */
export function ShopsUsed({ billing }: { billing: Billing }) {
  const { shops_used: used, shop_limit: limit } = billing;
  return <span data-testid="shops-used">{limit === null ? `${used} shop${used === 1 ? '' : 's'}` : `${used} of ${limit} shops`}</span>;
}
